# Locates the Debian-packaged dependencies. CAF 0.17.6 ships no CMake config, so it is found by hand.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(caf::core UNKNOWN IMPORTED)
set_target_properties(caf::core PROPERTIES IMPORTED_LOCATION ${CAF_CORE_LIBRARY}
                                           INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR}
                                           INTERFACE_LINK_LIBRARIES Threads::Threads)

find_package(yaml-cpp REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(CURL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(date REQUIRED)
find_package(GTest REQUIRED)

find_path(PAHO_INCLUDE_DIR MQTTAsync.h REQUIRED)
find_library(PAHO_ASYNC_SSL_LIBRARY paho-mqtt3as REQUIRED)
add_library(paho::mqtt3as UNKNOWN IMPORTED)
set_target_properties(paho::mqtt3as PROPERTIES IMPORTED_LOCATION ${PAHO_ASYNC_SSL_LIBRARY}
                                               INTERFACE_INCLUDE_DIRECTORIES ${PAHO_INCLUDE_DIR})

# The allocator of every executable (engine, tests, benchmarks). jemalloc, as Vector and Fluent Bit
# use for their engines: its per-thread caches serve the record's field arrays (1-4 KB, above
# glibc's 1,032-byte thread cache) without the shared heap, and it returns memory of a long-running
# process to the system over time. Sanitizers and libFuzzer bring their own allocator.
add_library(wattline_allocator INTERFACE)
if(WATTLINE_JEMALLOC AND NOT WATTLINE_SANITIZE AND NOT WATTLINE_FUZZ)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
  target_link_libraries(wattline_allocator INTERFACE PkgConfig::JEMALLOC)
  set(WATTLINE_WITH_JEMALLOC ON)
else()
  set(WATTLINE_WITH_JEMALLOC OFF)
endif()

if(WATTLINE_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
