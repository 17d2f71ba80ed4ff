#include "actors/serial/backoff.hpp"

#include <algorithm>

namespace wattline::serial {

backoff::backoff(backoff_policy policy, uint64_t seed) : policy_(policy) {
  if (seed == 0)
    seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  rng_.seed(seed);
  policy_.multiplier = std::max(1.0, policy_.multiplier);
  policy_.jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  if (policy_.initial.count() < 1)
    policy_.initial = std::chrono::milliseconds(1);
  policy_.max = std::max(policy_.max, policy_.initial);
}

std::chrono::milliseconds backoff::next() {
  double cap = static_cast<double>(policy_.max.count());
  double base = current_ <= 0 ? static_cast<double>(policy_.initial.count()) : current_;
  base = std::min(base, cap);
  current_ = std::min(base * policy_.multiplier, cap);
  double low = base * (1.0 - policy_.jitter);
  double d = low;
  if (base > low)
    d = std::uniform_real_distribution<double>(low, base)(rng_);
  return std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(d)));
}

} // namespace wattline::serial
