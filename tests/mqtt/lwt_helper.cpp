// Connects to a broker with an availability topic (last will `offline`), prints "ready" once
// connected and waits to be killed. Usage: mqtt_lwt_helper <url> <availability_topic>
#include "sinks/mqtt/client.hpp"

#include <cstdio>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <url> <availability_topic>\n", argv[0]);
    return 2;
  }
  wattline::mqtt::client_options opts;
  opts.url = argv[1];
  opts.availability_topic = argv[2];
  opts.keepalive = std::chrono::seconds(5);
  std::string error;
  auto c = wattline::mqtt::client::create(opts, {}, &error);
  if (!c) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  c->start();
  if (!c->wait_connected(std::chrono::seconds(10))) {
    std::fprintf(stderr, "not connected: %s\n", c->last_error().c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;)
    ::pause();
}
