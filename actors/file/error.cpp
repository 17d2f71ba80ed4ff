#include "actors/file/error.hpp"

#include <cstring>

namespace wattline::file_io {

io_error make_os_error(std::string what, const std::string& path, int code) {
  io_error e;
  e.code = code;
  e.message = std::move(what);
  e.message += ' ';
  e.message += path;
  e.message += ": ";
  e.message += std::strerror(code);
  return e;
}

} // namespace wattline::file_io
