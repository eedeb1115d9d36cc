// kbix entry point: wiring only; everything else lives in the library.
#include "kbix/app/cli.hpp"

int main(int argc, char** argv) {
  return kbix::run_cli(argc, argv);
}
