// Seeded random numbers for training: shuffles, dropout masks and input noise.
//
// Every stream is keyed by what it is for (seed, epoch, batch, layer), never by the thread that
// draws it, so a training run gives the same bits for any thread count.
#pragma once

#include <cmath>
#include <cstdint>

namespace mlpcore {

// SplitMix64 (Steele, Lea & Flood 2014): a good 64-bit mixer, used to derive stream seeds.
inline std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// One seed from a key of several words (order matters).
template <class... Words>
std::uint64_t stream_seed(std::uint64_t seed, Words... words) {
    std::uint64_t state = seed;
    std::uint64_t out = splitmix64(state);
    ((state ^= out + static_cast<std::uint64_t>(words), out = splitmix64(state)), ...);
    return out;
}

// xoshiro256** (Blackman & Vigna 2018): fast, 256-bit state, passes BigCrush.
class Rng {
public:
    explicit Rng(std::uint64_t seed) {
        for (auto& word : s_) word = splitmix64(seed);
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform on [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    // Uniform integer in [0, n), n > 0, without modulo bias (Lemire 2019).
    std::uint64_t below(std::uint64_t n) {
        unsigned __int128 product = static_cast<unsigned __int128>(next()) * n;
        auto low = static_cast<std::uint64_t>(product);
        if (low < n) {
            const std::uint64_t threshold = (0 - n) % n;
            while (low < threshold) {
                product = static_cast<unsigned __int128>(next()) * n;
                low = static_cast<std::uint64_t>(product);
            }
        }
        return static_cast<std::uint64_t>(product >> 64);
    }

    // Two independent standard normals (Box-Muller).
    void normal_pair(double& a, double& b) {
        const double u = 1.0 - uniform();  // (0, 1]: log(u) is finite
        const double radius = std::sqrt(-2.0 * std::log(u));
        const double angle = 6.283185307179586 * uniform();
        a = radius * std::cos(angle);
        b = radius * std::sin(angle);
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

}  // namespace mlpcore
