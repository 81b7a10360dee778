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

void cpu_relax() {
#if defined(__x86_64__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

void spin_then_yield(unsigned spins) {
    if (spins < 4096) cpu_relax();
    else std::this_thread::yield();
}

namespace {

thread_local bool t_inside_task = false;

// Spinning briefly before sleeping keeps the latency of back-to-back calls (one GEMM per layer)
// in microseconds; sleeping afterwards keeps an idle pool off the CPU (and off the core another
// library's threads may want).
constexpr auto kSpinTime = std::chrono::microseconds(200);
constexpr int kMaxThreads = 1024;

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

ThreadPool::ThreadPool() : shared_(std::make_unique<Shared>()) {
    const int n = available_cores() < kMaxThreads ? available_cores() : kMaxThreads;
    start_workers(n - 1);
    num_threads_.store(n, std::memory_order_relaxed);
#if defined(__linux__)
    pthread_atfork(nullptr, nullptr, &ThreadPool::after_fork_in_child);
#endif
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::after_fork_in_child() {
    ThreadPool& pool = instance();
    // The parent's state is abandoned on purpose: its std::thread objects name threads that do
    // not exist here and its locks may be held forever, so it can be neither used nor
    // destroyed. Workers are started again on the next parallel run().
    static_cast<void>(pool.shared_.release());
    pool.shared_ = std::make_unique<Shared>();
}

void ThreadPool::start_workers(int n_workers) {
    Shared* shared = shared_.get();
    shared->stop.store(false);
    // The generation is read here, not in the new thread: a job posted before the thread gets
    // to run must still count as new for it.
    const std::uint64_t seen = shared->generation.load(std::memory_order_acquire);
    for (int i = static_cast<int>(shared->workers.size()) + 1; i <= n_workers; ++i)
        shared->workers.emplace_back([shared, i, seen] { worker_loop(shared, i, seen); });
}

void ThreadPool::stop_workers() {
    Shared* shared = shared_.get();
    {
        std::lock_guard<std::mutex> lock(shared->sleep_mutex);
        shared->stop.store(true);
    }
    shared->wake.notify_all();
    for (std::thread& worker : shared->workers) worker.join();
    shared->workers.clear();
}

void ThreadPool::set_num_threads(int n) {
    require(n >= 1, "set_num_threads: n must be a positive integer (got ", n, ")");
    require(n <= kMaxThreads, "set_num_threads: n must be at most ", kMaxThreads, " (got ", n, ")");
    std::lock_guard<std::mutex> lock(shared_->dispatch);
    if (n == num_threads() && static_cast<int>(shared_->workers.size()) == n - 1) return;
    stop_workers();
    start_workers(n - 1);
    num_threads_.store(n, std::memory_order_relaxed);
}

void ThreadPool::worker_loop(Shared* shared, int index, std::uint64_t seen) {
    for (;;) {
        const auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
        unsigned spins = 0;
        while (shared->generation.load(std::memory_order_acquire) == seen && !shared->stop.load()) {
            if ((++spins & 63u) != 0 || std::chrono::steady_clock::now() < spin_until) {
                cpu_relax();
                continue;
            }
            std::unique_lock<std::mutex> lock(shared->sleep_mutex);
            shared->wake.wait(lock, [&] {
                return shared->generation.load(std::memory_order_acquire) != seen ||
                       shared->stop.load();
            });
        }
        if (shared->stop.load()) return;
        seen = shared->generation.load(std::memory_order_acquire);
        run_claimed_tasks(shared, index);
    }
}

void ThreadPool::run_claimed_tasks(Shared* shared, int own) {
    InsideTask inside;
    auto try_task = [shared](int t) {
        // Claiming first and reading n_tasks and task after (acquire) sees the run whose reset
        // of claimed[t] this claim observed; between runs every flag reads 1.
        int expected = 0;
        if (!shared->claimed[static_cast<std::size_t>(t)].compare_exchange_strong(
                expected, 1, std::memory_order_acq_rel))
            return;
        if (t >= shared->n_tasks.load(std::memory_order_acquire)) return;
        try {
            (*shared->task.load(std::memory_order_acquire))(t);
        } catch (...) {
            std::lock_guard<std::mutex> lock(shared->error_mutex);
            if (!shared->error) shared->error = std::current_exception();
        }
        shared->pending.fetch_sub(1, std::memory_order_acq_rel);
    };
    const int n = shared->n_tasks.load(std::memory_order_acquire);
    if (own < n) try_task(own);
    for (int t = 0; t < n; ++t) try_task(t);  // then whatever no one has started
}

void ThreadPool::run(int n_tasks, const std::function<void(int)>& task) {
    if (n_tasks <= 0) return;
    Shared* shared = shared_.get();
    std::unique_lock<std::mutex> lock(shared->dispatch, std::defer_lock);
    bool parallel = n_tasks > 1 && !t_inside_task && lock.try_lock();
    if (parallel && static_cast<int>(shared->workers.size()) + 1 < num_threads())
        start_workers(num_threads() - 1);  // first parallel run in a forked child
    parallel = parallel && n_tasks <= kMaxTasks;
    if (!parallel) {
        InsideTask inside;
        for (int t = 0; t < n_tasks; ++t) task(t);
        return;
    }
    shared->task = &task;
    shared->n_tasks = n_tasks;
    shared->error = nullptr;
    shared->pending.store(n_tasks, std::memory_order_relaxed);
    // Last: each reset publishes the fields above to the thread that claims the task.
    for (int t = 0; t < n_tasks; ++t)
        shared->claimed[static_cast<std::size_t>(t)].store(0, std::memory_order_release);
    {
        std::lock_guard<std::mutex> sleep_lock(shared->sleep_mutex);
        shared->generation.fetch_add(1, std::memory_order_acq_rel);
    }
    shared->wake.notify_all();
    // The caller takes tasks too, including any a worker has not claimed yet: a worker that is
    // descheduled (a loaded machine) delays the run by at most the task it already started.
    run_claimed_tasks(shared, 0);
    // Wait for tasks still running on workers.
    for (unsigned spins = 0; shared->pending.load(std::memory_order_acquire) != 0; ++spins)
        spin_then_yield(spins);
    shared->task = nullptr;
    if (shared->error) std::rethrow_exception(shared->error);
}

void set_num_threads(int n) { ThreadPool::instance().set_num_threads(n); }

int usable_threads() { return t_inside_task ? 1 : get_num_threads(); }

void init_threads_from_environment() {
    const char* env = std::getenv("MLPCORE_NUM_THREADS");
    if (env == nullptr || *env == '\0') return;
    char* end = nullptr;
    const long value = std::strtol(env, &end, 10);  // skips leading white space
    while (*end == ' ' || *end == '\t' || *end == '\n') ++end;  // and trailing
    require(end != env && *end == '\0' && value >= 1 && value <= kMaxThreads,
            "MLPCORE_NUM_THREADS must be an integer in [1, ", kMaxThreads, "] (got '", env, "')");
    set_num_threads(static_cast<int>(value));
}

}  // namespace mlpcore
