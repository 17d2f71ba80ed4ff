#include "actors/serial/serial_port.hpp"

#include "actors/serial/termios2_linux.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

namespace wattline::serial {

namespace {

speed_t speed_constant(uint32_t baud) {
  switch (baud) {
  case 50:
    return B50;
  case 75:
    return B75;
  case 110:
    return B110;
  case 134:
    return B134;
  case 150:
    return B150;
  case 200:
    return B200;
  case 300:
    return B300;
  case 600:
    return B600;
  case 1200:
    return B1200;
  case 1800:
    return B1800;
  case 2400:
    return B2400;
  case 4800:
    return B4800;
  case 9600:
    return B9600;
  case 19200:
    return B19200;
  case 38400:
    return B38400;
  case 57600:
    return B57600;
  case 115200:
    return B115200;
  case 230400:
    return B230400;
  case 460800:
    return B460800;
  case 500000:
    return B500000;
  case 576000:
    return B576000;
  case 921600:
    return B921600;
  case 1000000:
    return B1000000;
  case 1152000:
    return B1152000;
  case 1500000:
    return B1500000;
  case 2000000:
    return B2000000;
  case 2500000:
    return B2500000;
  case 3000000:
    return B3000000;
  case 3500000:
    return B3500000;
  case 4000000:
    return B4000000;
  default:
    return B0;
  }
}

tcflag_t size_flag(int bits) {
  switch (bits) {
  case 5:
    return CS5;
  case 6:
    return CS6;
  case 7:
    return CS7;
  default:
    return CS8;
  }
}

int size_bits(tcflag_t cflag) {
  switch (cflag & CSIZE) {
  case CS5:
    return 5;
  case CS6:
    return 6;
  case CS7:
    return 7;
  default:
    return 8;
  }
}

// UNIX98 pseudo-terminal slaves (majors 136-143): the kernel forces CS8 without parity on them.
bool is_pty(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return false;
  unsigned m = major(st.st_rdev);
  return S_ISCHR(st.st_mode) && m >= 136 && m <= 143;
}

std::string describe(int code) {
  return errno_name(code) + ": " + std::strerror(code);
}

std::string hint_for(error_kind kind) {
  switch (kind) {
  case error_kind::not_found:
    return "; is the converter plugged in? (/dev/serial/by-id paths exist only while it is "
           "connected; `wattline serial-ports` lists what is there)";
  case error_kind::permission_denied:
    return "; add the user to the 'dialout' group (sudo usermod -aG dialout $USER, then log in "
           "again)";
  case error_kind::busy:
    return "; another program or reader already uses the device";
  case error_kind::disconnected:
    return "; the converter was unplugged or reset?";
  case error_kind::not_a_tty:
    return "; the path is not a serial device";
  default:
    return "";
  }
}

} // namespace

serial_port::serial_port() = default;

serial_port::~serial_port() {
  close();
}

source_error serial_port::fail(error_kind kind, int code, const std::string& what) {
  source_error e;
  e.kind = kind;
  e.code = code;
  e.message = path_ + ": " + what;
  if (code != 0)
    e.message += " (" + describe(code) + ")";
  e.message += hint_for(kind);
  close();
  return e;
}

source_error serial_port::open(const std::string& path, const line_settings& settings,
                               const open_options& options) {
  close();
  path_ = path;
  device_.clear();
  if (auto errors = validate(settings); !errors.empty())
    return fail(error_kind::unsupported_setting, 0, errors.front().message);
  int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int code = errno;
    return fail(classify_errno(code), code, "cannot open");
  }
  fd_ = fd;
  if (char* real = ::realpath(path.c_str(), nullptr)) {
    device_ = real;
    std::free(real);
  } else {
    device_ = path;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    int code = errno;
    return fail(classify_errno(code), code, "cannot stat");
  }
  if (!S_ISCHR(st.st_mode))
    return fail(error_kind::not_a_tty, 0, "not a character device");
  rdev_ = st.st_rdev;
  termios probe{};
  if (::tcgetattr(fd_, &probe) != 0) {
    int code = errno;
    return fail(code == ENOTTY ? error_kind::not_a_tty : classify_errno(code), code,
                "not a terminal device");
  }
  if (options.lock && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int code = errno;
    if (code == EWOULDBLOCK)
      return fail(error_kind::busy, 0, "already in use by another reader (flock)");
    return fail(classify_errno(code), code, "cannot lock");
  }
  if (options.exclusive && ::ioctl(fd_, TIOCEXCL) != 0) {
    int code = errno;
    return fail(classify_errno(code), code, "cannot get exclusive access (TIOCEXCL)");
  }
  if (auto e = apply(settings))
    return e;
  if (options.flush_input)
    ::tcflush(fd_, TCIFLUSH);
  settings_ = settings;
  return {};
}

source_error serial_port::apply(const line_settings& s) {
  termios t{};
  if (::tcgetattr(fd_, &t) != 0) {
    int code = errno;
    return fail(classify_errno(code), code, "tcgetattr failed");
  }
  // Raw mode, the same as cfmakeraw(), spelled out, plus no flow control of any kind.
  t.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL |
                                      IXON | IXOFF | IXANY | INPCK | IUCLC | IMAXBEL);
  t.c_oflag &= ~static_cast<tcflag_t>(OPOST);
  t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ECHOE | ECHOK | ICANON | ISIG | IEXTEN);
  t.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS | CMSPAR);
  t.c_cflag |= CLOCAL | CREAD | size_flag(s.data_bits);
  if (s.parity != parity::none)
    t.c_cflag |= PARENB;
  if (s.parity == parity::odd)
    t.c_cflag |= PARODD;
  if (s.stop_bits == 2)
    t.c_cflag |= CSTOPB;
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  bool standard = is_standard_baud_rate(s.baud_rate);
  speed_t speed = standard ? speed_constant(s.baud_rate) : B38400;
  ::cfsetispeed(&t, speed);
  ::cfsetospeed(&t, speed);
  // glibc reports EINVAL when none of the requested changes took effect, e.g. when reopening a
  // pseudo-terminal whose driver drops the parity bit: the read-back below decides instead.
  if (::tcsetattr(fd_, TCSANOW, &t) != 0 && errno != EINVAL) {
    int code = errno;
    return fail(classify_errno(code), code, "cannot apply line settings " + to_string(s));
  }
  if (!standard) {
    if (int code = detail::set_custom_baud(fd_, s.baud_rate); code != 0)
      return fail(code == EINVAL || code == ENOTTY ? error_kind::unsupported_setting
                                                   : classify_errno(code),
                  code,
                  "the driver does not accept the non-standard baud rate " +
                      std::to_string(s.baud_rate) + " (termios2/BOTHER)");
  }
  // Read back: tcsetattr succeeds when any part was applied, so check what the driver kept.
  termios back{};
  if (::tcgetattr(fd_, &back) != 0) {
    int code = errno;
    return fail(classify_errno(code), code, "tcgetattr failed");
  }
  uint32_t in = 0, out = 0;
  if (detail::get_baud(fd_, in, out) == 0) {
    // Drivers may round to the nearest achievable rate; 3 % is what UARTs tolerate.
    auto off = [&](uint32_t got) {
      return std::abs(static_cast<double>(got) - s.baud_rate) > 0.03 * s.baud_rate;
    };
    if (off(out) || off(in))
      return fail(error_kind::unsupported_setting, 0,
                  "the driver set " + std::to_string(out) + " baud instead of " +
                      std::to_string(s.baud_rate));
  }
  if (!is_pty(fd_)) {
    bool parity_ok =
        ((back.c_cflag & PARENB) != 0) == (s.parity != parity::none) &&
        (s.parity == parity::none || ((back.c_cflag & PARODD) != 0) == (s.parity == parity::odd));
    if (size_bits(back.c_cflag) != s.data_bits || !parity_ok)
      return fail(error_kind::unsupported_setting, 0,
                  "the driver does not support " + to_string(s) + " (it kept " +
                      std::to_string(size_bits(back.c_cflag)) + " data bits, parity " +
                      ((back.c_cflag & PARENB) == 0   ? "none"
                       : (back.c_cflag & PARODD) != 0 ? "odd"
                                                      : "even") +
                      ")");
  }
  if ((back.c_lflag & (ICANON | ECHO | ISIG)) != 0 || (back.c_iflag & (IXON | IXOFF)) != 0 ||
      (back.c_cflag & (CLOCAL | CREAD)) != (CLOCAL | CREAD) || (back.c_cflag & CRTSCTS) != 0)
    return fail(error_kind::unsupported_setting, 0,
                "the driver did not accept raw mode without flow control");
  if (((back.c_cflag & CSTOPB) != 0) != (s.stop_bits == 2))
    return fail(error_kind::unsupported_setting, 0,
                "the driver does not support " + std::to_string(s.stop_bits) + " stop bits");
  return {};
}

bool serial_port::node_vanished() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0)
    return errno == ENOENT || errno == ENOTDIR;
  return !S_ISCHR(st.st_mode) || st.st_rdev != rdev_;
}

read_result serial_port::read_some(std::span<uint8_t> buffer, std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  read_result r;
  if (stop_.notified()) {
    r.status = read_status::stopped;
    return r;
  }
  if (fd_ < 0) {
    r.status = read_status::error;
    r.error = {error_kind::other, EBADF, (path_.empty() ? "serial port" : path_) + ": not open"};
    return r;
  }
  auto error = [&](error_kind kind, int code, const std::string& what) {
    r.status = read_status::error;
    r.error.kind = kind;
    r.error.code = code;
    r.error.message = path_ + ": " + what;
    if (code != 0)
      r.error.message += " (" + describe(code) + ")";
    r.error.message += hint_for(kind);
    return r;
  };
  auto deadline = clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
    left = std::clamp<int64_t>(left, 0, INT_MAX);
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_.fd(), POLLIN, 0}};
    int rc = ::poll(fds, 2, static_cast<int>(left));
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      int code = errno;
      return error(error_kind::other, code, "poll failed");
    }
    if (fds[1].revents != 0 || stop_.notified()) {
      r.status = read_status::stopped;
      return r;
    }
    if (rc == 0) {
      if (node_vanished())
        return error(error_kind::disconnected, 0, "device node vanished");
      r.status = read_status::timeout;
      return r;
    }
    short re = fds[0].revents;
    if (re & POLLNVAL)
      return error(error_kind::other, EBADF, "invalid descriptor");
    if (re & POLLIN) {
      ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n > 0) {
        r.status = read_status::data;
        r.size = static_cast<size_t>(n);
        return r;
      }
      if (n == 0)
        return error(error_kind::disconnected, 0, "end of file, the device hung up");
      int code = errno;
      if (code == EAGAIN || code == EINTR)
        continue;
      error_kind kind = classify_errno(code);
      return error(kind == error_kind::other ? error_kind::disconnected : kind, code,
                   "read failed");
    }
    if (re & (POLLHUP | POLLERR))
      return error(error_kind::disconnected, 0,
                   (re & POLLHUP) ? "device hung up (POLLHUP)" : "device error (POLLERR)");
  }
}

void serial_port::close() {
  if (fd_ < 0)
    return;
  // TTY_EXCLUSIVE outlives the descriptor on some drivers (ptys): clear it before closing.
  ::ioctl(fd_, TIOCNXCL);
  ::close(fd_); // also drops the flock
  fd_ = -1;
}

uint32_t read_baud_rate(int fd) {
  uint32_t in = 0, out = 0;
  if (detail::get_baud(fd, in, out) != 0)
    return 0;
  return out;
}

} // namespace wattline::serial
