#include "sinks/influxdb/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

namespace wattline::influxdb {

backoff::backoff(backoff_options opts, random_fn rng) : opts_(opts), rng_(std::move(rng)) {
  if (!rng_) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    rng_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
  if (opts_.multiplier < 1.0)
    opts_.multiplier = 1.0;
}

std::chrono::milliseconds backoff::ceiling() const {
  double cap = static_cast<double>(opts_.max.count());
  double bound = static_cast<double>(opts_.initial.count()) * std::pow(opts_.multiplier, attempt_);
  return std::chrono::milliseconds{static_cast<int64_t>(std::min(cap, bound))};
}

std::chrono::milliseconds backoff::next(std::chrono::milliseconds server_hint) {
  double r = std::clamp(rng_(), 0.0, 1.0);
  auto bound = ceiling();
  if (attempt_ < 64)
    ++attempt_;
  auto delay = std::chrono::milliseconds{
      static_cast<int64_t>(std::floor(r * static_cast<double>(bound.count())))};
  auto hint = std::min(server_hint, opts_.max_retry_after);
  return std::max(delay, hint);
}

} // namespace wattline::influxdb
