// wattline: the command-line entry point.

#include "engine/config/docs.hpp"
#include "engine/config/loader.hpp"
#include "engine/log.hpp"
#include "engine/runtime/runtime.hpp"

#include <CLI/CLI.hpp>

#include <dlfcn.h>

#include <iostream>

#ifndef WATTLINE_VERSION
#define WATTLINE_VERSION "0.0.0"
#endif

namespace {

using namespace wattline;

// The malloc this process runs with, looked up at run time: jemalloc when its control interface
// is loaded (the default build links it on x86-64), the sanitizer's in a sanitizer build, glibc's
// otherwise.
std::string allocator_name() {
#if defined(__SANITIZE_ADDRESS__)
  return "AddressSanitizer's allocator";
#else
  using mallctl_fn = int (*)(const char*, void*, size_t*, void*, size_t);
  if (auto* ctl = reinterpret_cast<mallctl_fn>(::dlsym(RTLD_DEFAULT, "mallctl"))) {
    const char* version = nullptr;
    size_t size = sizeof version;
    if (ctl("version", &version, &size, nullptr, 0) == 0 && version != nullptr)
      return std::string{"jemalloc "} + version;
    return "jemalloc";
  }
  return "glibc malloc";
#endif
}

// Prints every diagnostic; returns true when none is an error.
bool report(const diagnostics& diags) {
  for (const auto& d : diags.items())
    std::cerr << render(d);
  return !diags.has_errors();
}

int count_errors(const diagnostics& diags) {
  int n = 0;
  for (const auto& d : diags.items())
    n += d.level == severity::error;
  return n;
}

} // namespace

// Provided by the component library: lists serial devices (wattline serial-ports).
namespace wattline {
std::string serial_ports_report();
}

int main(int argc, char** argv) {
  CLI::App app{"wattline: home-energy and home-network telemetry engine.\n"
               "Reads smart meters and devolo devices, prices energy, and feeds InfluxDB, MQTT and "
               "files from YAML pipelines."};
  app.set_version_flag("--version", std::string{"wattline "} + WATTLINE_VERSION +
                                        "\nallocator: " + allocator_name());
  app.require_subcommand(1);

  std::vector<std::string> run_files;
  std::optional<std::string> status_address;
  std::optional<std::string> data_dir;
  auto* run = app.add_subcommand("run", "Run pipelines until their sources end or a signal stops "
                                        "them (SIGINT/SIGTERM drain, SIGHUP reloads).");
  run->add_option("files", run_files, "Pipeline files or directories")->required();
  run->add_option("--status-address", status_address,
                  "Override engine.status_address (host:port, or off)");
  run->add_option("--data-dir", data_dir, "Override engine.data_dir");

  std::vector<std::string> validate_files;
  auto* validate = app.add_subcommand("validate", "Check pipeline files and report every error.");
  validate->add_option("files", validate_files, "Pipeline files or directories")->required();

  std::vector<std::string> graph_files;
  std::string graph_format = "dot";
  auto* graph = app.add_subcommand("graph", "Print the pipeline graph (Graphviz DOT or Mermaid).");
  graph->add_option("files", graph_files, "Pipeline files or directories")->required();
  graph->add_option("--format", graph_format, "dot or mermaid")
      ->check(CLI::IsMember({"dot", "mermaid"}));

  std::string describe_type;
  bool describe_markdown_flag = false;
  auto* describe = app.add_subcommand("describe", "Describe components and their options.");
  describe->add_option("type", describe_type, "Component type (all when omitted)");
  describe->add_flag("--markdown", describe_markdown_flag, "Markdown, as in the README reference");

  auto* schema = app.add_subcommand("schema", "Print the JSON Schema of pipeline files, for "
                                              "editors (yaml-language-server).");
  auto* serial_ports = app.add_subcommand("serial-ports", "List serial devices with their stable "
                                                          "/dev/serial/by-id names.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : runtime::exit_usage;
  }

  if (*run) {
    runtime::run_options opts;
    opts.paths = run_files;
    opts.status_address = status_address;
    opts.data_dir = data_dir;
    return runtime::run(opts);
  }
  if (*validate) {
    diagnostics diags;
    auto spec = load_pipelines(validate_files, diags);
    if (!report(diags) || !spec) {
      std::cerr << count_errors(diags) << " error(s); no pipeline was started\n";
      return exit_config_error;
    }
    std::cout << "ok: " << spec->nodes.size() << " nodes in " << spec->files.size() << " file(s)\n";
    return 0;
  }
  if (*graph) {
    diagnostics diags;
    auto spec = load_pipelines(graph_files, diags);
    if (!report(diags) || !spec)
      return exit_config_error;
    std::cout << (graph_format == "mermaid" ? graph_mermaid(*spec) : graph_dot(*spec));
    return 0;
  }
  if (*describe) {
    auto& reg = component_registry::instance();
    auto text = describe_markdown_flag ? describe_markdown(reg) : describe_text(reg, describe_type);
    if (text.empty()) {
      std::cerr << "error: unknown component type '" << describe_type << "'\n";
      return runtime::exit_usage;
    }
    std::cout << text;
    return 0;
  }
  if (*schema) {
    std::cout << json_schema(component_registry::instance()) << '\n';
    return 0;
  }
  if (*serial_ports) {
    std::cout << serial_ports_report();
    return 0;
  }
  return 0;
}
