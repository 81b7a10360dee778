// A growable, 64-byte aligned scratch buffer (packing workspaces). Grows, never shrinks, so a
// thread that keeps one across calls allocates only when a larger problem arrives. Its contents
// start uninitialised (and are not kept when it grows): pages never written take no memory.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>

namespace mlpcore {

template <class T>
class AlignedBuffer {
public:
    AlignedBuffer() = default;
    AlignedBuffer(AlignedBuffer&& other) noexcept { swap(other); }
    AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
        AlignedBuffer(std::move(other)).swap(*this);
        return *this;
    }

    T* reserve(std::size_t count) {
        if (count > capacity_) {
            const std::size_t bytes = ((count * sizeof(T) + 63) / 64) * 64;
            void* memory = std::aligned_alloc(64, bytes);
            if (memory == nullptr) throw std::bad_alloc();
            data_.reset(static_cast<T*>(memory));
            capacity_ = count;
        }
        return data_.get();
    }
    T* data() const { return data_.get(); }
    std::size_t capacity() const { return capacity_; }
    void swap(AlignedBuffer& other) noexcept {
        data_.swap(other.data_);
        std::swap(capacity_, other.capacity_);
    }

private:
    struct Free {
        void operator()(T* p) const { std::free(p); }
    };
    std::unique_ptr<T, Free> data_;
    std::size_t capacity_ = 0;
};

}  // namespace mlpcore
