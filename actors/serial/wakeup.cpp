#include "actors/serial/wakeup.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <poll.h>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace wattline::serial {

wakeup::wakeup() {
  fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "eventfd");
}

wakeup::~wakeup() {
  if (fd_ >= 0)
    ::close(fd_);
}

void wakeup::notify() noexcept {
  flag_.store(true, std::memory_order_release);
  uint64_t one = 1;
  // A full counter (impossible in practice) still leaves the descriptor readable.
  [[maybe_unused]] auto n = ::write(fd_, &one, sizeof(one));
}

void wakeup::reset() noexcept {
  flag_.store(false, std::memory_order_release);
  uint64_t value = 0;
  [[maybe_unused]] auto n = ::read(fd_, &value, sizeof(value));
}

bool wakeup::wait_for(std::chrono::milliseconds d) const noexcept {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + d;
  for (;;) {
    if (notified())
      return true;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0)
      return notified();
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (rc > 0)
      return true;
    if (rc < 0 && errno != EINTR)
      return notified(); // cannot wait: give up the sleep rather than spin
  }
}

} // namespace wattline::serial
