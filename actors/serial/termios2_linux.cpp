#include "actors/serial/termios2_linux.hpp"

#include <asm/termbits.h>
#include <cerrno>
#include <sys/ioctl.h>

namespace wattline::serial::detail {

int set_custom_baud(int fd, uint32_t baud) {
  struct termios2 t {};
  if (::ioctl(fd, TCGETS2, &t) != 0)
    return errno;
  t.c_cflag &= ~(CBAUD | (CBAUD << IBSHIFT));
  t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
  t.c_ispeed = baud;
  t.c_ospeed = baud;
  if (::ioctl(fd, TCSETS2, &t) != 0)
    return errno;
  return 0;
}

int get_baud(int fd, uint32_t& input, uint32_t& output) {
  struct termios2 t {};
  if (::ioctl(fd, TCGETS2, &t) != 0)
    return errno;
  input = t.c_ispeed;
  output = t.c_ospeed;
  return 0;
}

} // namespace wattline::serial::detail
