#include "thread_pool.hpp"

#include <chrono>
#include <cstdlib>
#include <string>

#include "check.hpp"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mlpcore {
namespace {

thread_local bool t_inside_task = false;

// Spinning briefly before sleeping keeps the latency of back-to-back calls (one GEMM per layer)
// in microseconds; sleeping afterwards keeps an idle pool off the CPU (and off the core another
// library's threads may want).
constexpr auto kSpinTime = std::chrono::microseconds(200);

inline void cpu_relax() {
#if defined(__x86_64__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

struct InsideTask {
    bool previous = t_inside_task;
    InsideTask() { t_inside_task = true; }
    ~InsideTask() { t_inside_task = previous; }
};

}  // namespace

int available_cores() {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
#endif
    unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? static_cast<int>(hw) : 1;
}

ThreadPool& ThreadPool::instance() {
    static ThreadPool pool;
    return pool;
}

ThreadPool::ThreadPool() {
    int n = available_cores();
    if (const char* env = std::getenv("MLPCORE_NUM_THREADS")) {
        char* end = nullptr;
        long value = std::strtol(env, &end, 10);
        if (end != env && *end == '\0' && value >= 1 && value <= 1024) n = static_cast<int>(value);
    }
    start_workers(n - 1);
    num_threads_.store(n, std::memory_order_relaxed);
#if defined(__linux__)
    // After fork() the child has no worker threads: forget them without joining.
    pthread_atfork(nullptr, nullptr, [] {
        ThreadPool& pool = ThreadPool::instance();
        for (std::thread& worker : pool.workers_) worker.detach();
        pool.workers_.clear();
        pool.num_threads_.store(1, std::memory_order_relaxed);
    });
#endif
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::start_workers(int n_workers) {
    stop_.store(false);
    // The generation is read here, not in the new thread: a job posted before the thread gets
    // to run must still count as new for it.
    const std::uint64_t seen = generation_.load(std::memory_order_acquire);
    for (int i = 1; i <= n_workers; ++i)
        workers_.emplace_back([this, i, seen] { worker_loop(i, seen); });
}

void ThreadPool::stop_workers() {
    {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        stop_.store(true);
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
}

void ThreadPool::set_num_threads(int n) {
    require(n >= 1, "set_num_threads: n must be a positive integer (got ", n, ")");
    std::lock_guard<std::mutex> lock(dispatch_);
    if (n == num_threads()) return;
    stop_workers();
    start_workers(n - 1);
    num_threads_.store(n, std::memory_order_relaxed);
}

void ThreadPool::worker_loop(int index, std::uint64_t seen) {
    for (;;) {
        const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
        unsigned spins = 0;
        while (generation_.load(std::memory_order_acquire) == seen && !stop_.load()) {
            if ((++spins & 63u) != 0 || std::chrono::steady_clock::now() < spin_until) {
                cpu_relax();
                continue;
            }
            std::unique_lock<std::mutex> lock(sleep_mutex_);
            wake_.wait(lock, [&] {
                return generation_.load(std::memory_order_acquire) != seen || stop_.load();
            });
        }
        if (stop_.load()) return;
        seen = generation_.load(std::memory_order_acquire);
        if (index < n_tasks_) {
            InsideTask inside;
            try {
                (*task_)(index);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex_);
                if (!error_) error_ = std::current_exception();
            }
            pending_.fetch_sub(1, std::memory_order_acq_rel);
        }
    }
}

void ThreadPool::run(int n_tasks, const std::function<void(int)>& task) {
    if (n_tasks <= 0) return;
    std::unique_lock<std::mutex> lock(dispatch_, std::defer_lock);
    const bool parallel = n_tasks > 1 && !t_inside_task && lock.try_lock() &&
                          n_tasks <= static_cast<int>(workers_.size()) + 1;
    if (!parallel) {
        InsideTask inside;
        for (int t = 0; t < n_tasks; ++t) task(t);
        return;
    }
    task_ = &task;
    n_tasks_ = n_tasks;
    error_ = nullptr;
    pending_.store(n_tasks - 1, std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> sleep_lock(sleep_mutex_);
        generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    wake_.notify_all();
    std::exception_ptr own_error;
    {
        InsideTask inside;
        try {
            task(0);
        } catch (...) {
            own_error = std::current_exception();
        }
    }
    while (pending_.load(std::memory_order_acquire) != 0) cpu_relax();
    task_ = nullptr;
    if (own_error) std::rethrow_exception(own_error);
    if (error_) std::rethrow_exception(error_);
}

void set_num_threads(int n) { ThreadPool::instance().set_num_threads(n); }

}  // namespace mlpcore
