// A small persistent pool: run(n, fn) calls fn(t) for t = 0..n-1 on the caller and the workers.
// Task t goes to thread t first (the caller is thread 0), so consecutive runs that split memory
// the same way find it in the same core's cache; a thread that is done takes the tasks no one has
// started (a descheduled worker then delays a run by at most the task it already began). So more
// tasks than threads (up to kMaxTasks) balance themselves when some cores run slower than others.
// Callers partition their work statically by t, never by the thread that runs it, so results
// never depend on scheduling. Nested or concurrent calls fall back to running the tasks in order on
// the calling thread, which gives the same results.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
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
    // Everything the workers share. Replaced wholesale in a forked child, where the parent's
    // workers do not exist and its mutexes and condition variable may be in any state.
    static constexpr int kMaxTasks = 1024;
    struct Shared {
        Shared() {
            for (auto& flag : claimed) flag.store(1, std::memory_order_relaxed);
        }
        std::vector<std::thread> workers;
        std::mutex dispatch;  // one run() at a time uses the workers
        std::mutex sleep_mutex;
        std::condition_variable wake;
        std::atomic<std::uint64_t> generation{0};
        std::atomic<int> pending{0};    // tasks of the current run not finished yet
        // claimed[t] is 0 while task t of the current run waits for a thread, 1 once taken (and
        // between runs, so a late worker never takes a task of a run it sees half-published).
        std::vector<std::atomic<int>> claimed = std::vector<std::atomic<int>>(kMaxTasks);
        std::atomic<bool> stop{false};
        std::atomic<const std::function<void(int)>*> task{nullptr};
        std::atomic<int> n_tasks{0};
        std::mutex error_mutex;
        std::exception_ptr error;
    };

    ThreadPool();
    void start_workers(int n_workers);  // call with shared_->dispatch held (or single-threaded)
    void stop_workers();
    static void worker_loop(Shared* shared, int index, std::uint64_t seen);
    static void run_claimed_tasks(Shared* shared, int own);
    static void after_fork_in_child();

    std::atomic<int> num_threads_{1};
    std::unique_ptr<Shared> shared_;
};

// A pause for spin-waiting loops (lets the other hyperthread run, saves power).
void cpu_relax();
// One step of a wait whose `spins`-th check found nothing: spin briefly (what it waits for
// usually comes within microseconds), then yield the core, in case the thread it waits for is
// queued behind this one (a busy machine).
void spin_then_yield(unsigned spins);

// Cores available to this process (its CPU affinity mask), at least 1.
int available_cores();

inline int get_num_threads() { return ThreadPool::instance().num_threads(); }
// Threads a caller should plan its work for: 1 inside a pool task (nested work runs inline on
// the task's thread), otherwise get_num_threads().
int usable_threads();
void set_num_threads(int n);  // throws invalid_argument for n < 1

// Applies MLPCORE_NUM_THREADS if set (throws invalid_argument for a value that is not an
// integer in [1, 1024]); otherwise the pool keeps its default, the available cores.
void init_threads_from_environment();

}  // namespace mlpcore
