// A small persistent pool: run(n, fn) calls fn(t) for t = 0..n-1, task t on its own thread
// (the caller is thread 0). Callers partition their work statically by t, so results never
// depend on scheduling. Nested or concurrent calls fall back to running the tasks in order on
// the calling thread, which gives the same results.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mlpcore {

class ThreadPool {
public:
    static ThreadPool& instance();

    int num_threads() const { return num_threads_.load(std::memory_order_relaxed); }
    void set_num_threads(int n);  // n >= 1

    void run(int n_tasks, const std::function<void(int)>& task);

    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool();

private:
    ThreadPool();
    void start_workers(int n_workers);
    void stop_workers();
    void worker_loop(int index, std::uint64_t seen);

    std::atomic<int> num_threads_{1};
    std::vector<std::thread> workers_;

    std::mutex dispatch_;  // one run() at a time uses the workers
    std::mutex sleep_mutex_;
    std::condition_variable wake_;
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
    const std::function<void(int)>* task_ = nullptr;
    int n_tasks_ = 0;
    std::mutex error_mutex_;
    std::exception_ptr error_;
};

// Cores available to this process (its CPU affinity mask), at least 1.
int available_cores();

inline int get_num_threads() { return ThreadPool::instance().num_threads(); }
void set_num_threads(int n);  // throws invalid_argument for n < 1

}  // namespace mlpcore
