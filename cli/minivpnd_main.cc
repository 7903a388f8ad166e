// minivpnd: the IKEv2 daemon. Wires config, engine, kernel and sockets together.
#include <fmt/core.h>

#include <cstring>

#include "cli/version.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      fmt::print("minivpnd {}\n", MINIVPN_VERSION);
      return 0;
    }
  }
  fmt::print(stderr, "usage: minivpnd --version\n");
  return 2;
}
