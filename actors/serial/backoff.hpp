#pragma once

// Capped exponential backoff with jitter for reconnect attempts.

#include <chrono>
#include <cstdint>
#include <random>

namespace wattline::serial {

/// Parameters of the reconnect backoff.
struct backoff_policy {
  /// Delay before the first retry.
  std::chrono::milliseconds initial{100};
  /// Upper bound of any delay.
  std::chrono::milliseconds max{5000};
  /// Growth factor per failed attempt (>= 1).
  double multiplier = 2.0;
  /// Relative jitter in [0, 1]: each delay is drawn uniformly from [d * (1 - jitter), d] so that
  /// many readers started together do not retry in lock-step.
  double jitter = 0.2;
};

/// Produces the delays of a backoff_policy: next() grows the delay, reset() starts over.
class backoff {
public:
  /// Uses `policy`; `seed` 0 seeds from std::random_device.
  explicit backoff(backoff_policy policy = {}, uint64_t seed = 0);

  /// The delay to wait before the next attempt; grows the following one.
  std::chrono::milliseconds next();
  /// Back to the initial delay (after a healthy connection).
  void reset() { current_ = 0; }
  /// The policy in use.
  [[nodiscard]] const backoff_policy& policy() const { return policy_; }

private:
  backoff_policy policy_;
  double current_ = 0; // undithered delay of the next attempt in ms, 0 = initial
  std::mt19937_64 rng_;
};

} // namespace wattline::serial
