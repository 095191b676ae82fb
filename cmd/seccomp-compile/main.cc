// seccomp-compile: turns the inner seccomp profile (JSON, see
// src/seccomp/README.md) into the raw BPF program that `bwrap --seccomp FD`
// loads. Build-time tool; the server itself only reads the .bpf file.
//
//   seccomp-compile --in profiles/seccomp.json --out seccomp.bpf [--pfc seccomp.pfc]
//
// Exit 0 on success, 1 on a profile or compile error (message names the rule
// and syscall), 2 on bad usage. The output file is replaced atomically, so a
// failed run never leaves a truncated blob behind.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "seccomp/compile.h"
#include "seccomp/profile.h"
#include "seccomp/seccomp_error.h"

namespace {

namespace fs = std::filesystem;

void write_atomically(const fs::path& path, const void* data, std::size_t size) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw blockyard::seccomp::SeccompError("cannot write " + tmp.string());
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) throw blockyard::seccomp::SeccompError("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw blockyard::seccomp::SeccompError("cannot replace " + path.string());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Compile a blockyard seccomp profile (JSON) into a BPF program for bwrap"};
  std::string in_path;
  std::string out_path;
  std::string pfc_path;
  blockyard::seccomp::CompileOptions options;
  app.add_option("--in", in_path, "profile JSON (e.g. profiles/seccomp.json)")->required();
  app.add_option("--out", out_path, "BPF output file (e.g. seccomp.bpf)")->required();
  app.add_option("--pfc", pfc_path, "also write libseccomp's readable rendering here");
  app.add_option("--arch", options.arch, "target architecture (libseccomp name); default native");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  try {
    const auto profile = blockyard::seccomp::load_profile(in_path);
    const auto bpf = blockyard::seccomp::compile_bpf(profile, options);
    write_atomically(out_path, bpf.data(), bpf.size());
    if (!pfc_path.empty()) {
      const std::string pfc = blockyard::seccomp::compile_pfc(profile, options);
      write_atomically(pfc_path, pfc.data(), pfc.size());
    }
  } catch (const blockyard::seccomp::SeccompError& e) {
    std::cerr << "seccomp-compile: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
