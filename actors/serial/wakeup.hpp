#pragma once

// A sticky, thread-safe wake-up signal backed by an eventfd, for putting into a poll() set and for
// interruptible sleeps.

#include <atomic>
#include <chrono>

namespace wattline::serial {

/// An eventfd that becomes readable once notify() is called and stays readable until reset().
/// notify() may be called from any thread (it is a single write()).
class wakeup {
public:
  /// Creates the eventfd; throws std::system_error when the system has no descriptors left.
  wakeup();
  ~wakeup();
  wakeup(const wakeup&) = delete;
  wakeup& operator=(const wakeup&) = delete;

  /// Signals: the descriptor becomes readable and notified() returns true. Thread-safe.
  void notify() noexcept;
  /// True after notify() until reset(). Thread-safe.
  [[nodiscard]] bool notified() const noexcept { return flag_.load(std::memory_order_acquire); }
  /// Clears the signal. Call only from the thread that waits.
  void reset() noexcept;
  /// The descriptor to add to a poll() set (POLLIN).
  [[nodiscard]] int fd() const noexcept { return fd_; }
  /// Sleeps up to `d`; returns true (early) when notified.
  bool wait_for(std::chrono::milliseconds d) const noexcept;

private:
  int fd_ = -1;
  std::atomic<bool> flag_{false};
};

} // namespace wattline::serial
