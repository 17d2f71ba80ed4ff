#include "tests/serial/pty_pair.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace wattline::test {

namespace {

int ms_left(std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
          .count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT_MAX));
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("pty_pair: " + what + ": " + std::strerror(errno));
}

} // namespace

pty_pair::pty_pair(std::filesystem::path link) : link_(std::move(link)) {
  open_pair();
}

pty_pair::~pty_pair() {
  unplug();
}

void pty_pair::open_pair() {
  int m = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0)
    fail("posix_openpt");
  if (::grantpt(m) != 0 || ::unlockpt(m) != 0) {
    ::close(m);
    fail("grantpt/unlockpt");
  }
  char name[128] = {};
  if (::ptsname_r(m, name, sizeof(name)) != 0) {
    ::close(m);
    fail("ptsname");
  }
  int s = ::open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (s < 0) {
    ::close(m);
    fail(std::string("open ") + name);
  }
  termios t{};
  if (::tcgetattr(s, &t) == 0) {
    ::cfmakeraw(&t);
    ::tcsetattr(s, TCSANOW, &t);
  }
  ::fcntl(m, F_SETFL, ::fcntl(m, F_GETFL) | O_NONBLOCK);
  master_ = m;
  slave_ = s;
  slave_path_ = name;
  if (!link_.empty()) {
    std::filesystem::create_directories(link_.parent_path());
    // Replace atomically, like udev re-pointing a by-id link.
    auto tmp = link_;
    tmp += ".tmp";
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    std::filesystem::create_symlink(slave_path_, tmp);
    std::filesystem::rename(tmp, link_);
  }
}

std::string pty_pair::path() const {
  return link_.empty() ? slave_path_ : link_.string();
}

termios pty_pair::slave_termios() const {
  termios t{};
  if (slave_ < 0 || ::tcgetattr(slave_, &t) != 0)
    fail("tcgetattr");
  return t;
}

bool pty_pair::write(std::span<const uint8_t> bytes, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t done = 0;
  while (done < bytes.size()) {
    if (master_ < 0)
      return false;
    ssize_t n = ::write(master_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return false;
    pollfd p{master_, POLLOUT, 0};
    int left = ms_left(deadline);
    if (left == 0 || ::poll(&p, 1, left) == 0)
      return false;
  }
  return true;
}

bool pty_pair::write(std::string_view text, std::chrono::milliseconds timeout) {
  return write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
               timeout);
}

bool pty_pair::write_paced(std::span<const uint8_t> bytes, std::size_t max_chunk,
                           std::chrono::microseconds pace, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> size(1, std::max<size_t>(1, max_chunk));
  size_t done = 0;
  while (done < bytes.size()) {
    size_t n = std::min(size(rng), bytes.size() - done);
    if (!write(bytes.subspan(done, n)))
      return false;
    done += n;
    if (done < bytes.size() && pace.count() > 0)
      std::this_thread::sleep_for(pace); // the pacing writer is the one place that sleeps
  }
  return true;
}

std::vector<uint8_t> pty_pair::read_master(std::chrono::milliseconds timeout) {
  std::vector<uint8_t> out;
  if (master_ < 0)
    return out;
  pollfd p{master_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
    return out;
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = ::read(master_, buf, sizeof(buf));
    if (n <= 0)
      break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

void pty_pair::unplug() {
  if (!link_.empty()) {
    std::error_code ec;
    std::filesystem::remove(link_, ec);
  }
  if (master_ >= 0)
    ::close(master_);
  if (slave_ >= 0)
    ::close(slave_);
  master_ = slave_ = -1;
  slave_path_.clear();
}

void pty_pair::replug() {
  unplug();
  open_pair();
}

std::vector<uint8_t> random_bytes(std::size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> out(n);
  for (auto& b : out)
    b = static_cast<uint8_t>(rng());
  return out;
}

} // namespace wattline::test
