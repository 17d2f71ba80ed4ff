#pragma once

// Capped exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS architecture
// blog): the n-th delay is uniform in [0, min(cap, initial * multiplier^n)], and never shorter than
// a server's Retry-After hint.

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>

namespace wattline::influxdb {

/// Backoff parameters.
struct backoff_options {
  /// Upper bound of the first delay.
  std::chrono::milliseconds initial{100};
  /// Upper bound of any delay computed by the backoff (a Retry-After hint may exceed it, up to
  /// `max_retry_after`).
  std::chrono::milliseconds max{30'000};
  /// Growth factor of the upper bound per attempt.
  double multiplier = 2.0;
  /// Largest server Retry-After honoured; longer hints are cut to this.
  std::chrono::milliseconds max_retry_after{600'000};
};

/// Computes retry delays. Not thread-safe.
class backoff {
public:
  /// Returns a uniformly distributed number in [0, 1); injectable for tests.
  using random_fn = std::function<double()>;

  /// Creates a backoff; `rng` defaults to a std::mt19937_64 seeded from std::random_device.
  explicit backoff(backoff_options opts = {}, random_fn rng = {});

  /// Returns the delay before the next attempt and counts the attempt. `server_hint` is a
  /// Retry-After value (zero when none): the delay is at least min(server_hint, max_retry_after).
  std::chrono::milliseconds next(std::chrono::milliseconds server_hint = {});

  /// The current upper bound, without consuming an attempt.
  [[nodiscard]] std::chrono::milliseconds ceiling() const;

  /// Starts over after a success.
  void reset() { attempt_ = 0; }

  /// Attempts since the last reset.
  [[nodiscard]] uint32_t attempts() const { return attempt_; }

private:
  backoff_options opts_;
  random_fn rng_;
  uint32_t attempt_ = 0;
};

} // namespace wattline::influxdb
