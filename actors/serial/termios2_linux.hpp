#pragma once

// Internal: arbitrary baud rates through Linux termios2/BOTHER. Kept in its own translation unit
// because <asm/termbits.h> clashes with glibc's <termios.h>.

#include <cstdint>

namespace wattline::serial::detail {

/// Sets input and output speed of `fd` to `baud` with BOTHER. Returns 0 or an errno value.
int set_custom_baud(int fd, uint32_t baud);

/// Reads input and output speed of `fd` (exact, also for BOTHER). Returns 0 or an errno value.
int get_baud(int fd, uint32_t& input, uint32_t& output);

} // namespace wattline::serial::detail
