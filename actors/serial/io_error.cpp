#include "actors/serial/io_error.hpp"

#include <cerrno>

namespace wattline::serial {

std::string_view to_string(error_kind k) {
  switch (k) {
  case error_kind::none:
    return "none";
  case error_kind::not_found:
    return "not_found";
  case error_kind::permission_denied:
    return "permission_denied";
  case error_kind::busy:
    return "busy";
  case error_kind::not_a_tty:
    return "not_a_tty";
  case error_kind::unsupported_setting:
    return "unsupported_setting";
  case error_kind::disconnected:
    return "disconnected";
  case error_kind::connection_refused:
    return "connection_refused";
  case error_kind::timed_out:
    return "timed_out";
  case error_kind::unreachable:
    return "unreachable";
  case error_kind::resolve_failed:
    return "resolve_failed";
  case error_kind::idle_timeout:
    return "idle_timeout";
  case error_kind::other:
    return "other";
  }
  return "other";
}

std::string errno_name(int code) {
  switch (code) {
  case EPERM:
    return "EPERM";
  case ENOENT:
    return "ENOENT";
  case EINTR:
    return "EINTR";
  case EIO:
    return "EIO";
  case ENXIO:
    return "ENXIO";
  case EBADF:
    return "EBADF";
  case EAGAIN:
    return "EAGAIN";
  case EACCES:
    return "EACCES";
  case EBUSY:
    return "EBUSY";
  case ENODEV:
    return "ENODEV";
  case ENOTDIR:
    return "ENOTDIR";
  case EISDIR:
    return "EISDIR";
  case EINVAL:
    return "EINVAL";
  case ENOTTY:
    return "ENOTTY";
  case EPIPE:
    return "EPIPE";
  case ENOTCONN:
    return "ENOTCONN";
  case ECONNRESET:
    return "ECONNRESET";
  case ECONNREFUSED:
    return "ECONNREFUSED";
  case ECONNABORTED:
    return "ECONNABORTED";
  case ETIMEDOUT:
    return "ETIMEDOUT";
  case EHOSTUNREACH:
    return "EHOSTUNREACH";
  case ENETUNREACH:
    return "ENETUNREACH";
  case ENETDOWN:
    return "ENETDOWN";
  case EHOSTDOWN:
    return "EHOSTDOWN";
  case ELOOP:
    return "ELOOP";
  case EROFS:
    return "EROFS";
  case EMFILE:
    return "EMFILE";
  case ENFILE:
    return "ENFILE";
  default:
    return "errno " + std::to_string(code);
  }
}

error_kind classify_errno(int code) {
  switch (code) {
  case 0:
    return error_kind::none;
  case ENOENT:
  case ENOTDIR:
    return error_kind::not_found;
  case EACCES:
  case EPERM:
  case EROFS:
    return error_kind::permission_denied;
  case EBUSY:
  case EWOULDBLOCK:
    return error_kind::busy;
  case ENOTTY:
    return error_kind::not_a_tty;
  case EIO:
  case ENXIO:
  case ENODEV:
  case EPIPE:
  case ECONNRESET:
  case ECONNABORTED:
  case ENOTCONN:
    return error_kind::disconnected;
  case ECONNREFUSED:
    return error_kind::connection_refused;
  case ETIMEDOUT:
    return error_kind::timed_out;
  case EHOSTUNREACH:
  case ENETUNREACH:
  case ENETDOWN:
  case EHOSTDOWN:
    return error_kind::unreachable;
  default:
    return error_kind::other;
  }
}

} // namespace wattline::serial
