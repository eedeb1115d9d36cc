// sftp_bench [MiB] [rounds]: moves one file of MiB (default 100) up and down through kbix's
// SftpClient and through OpenSSH's `sftp -b`, against the same loopback sshd, `rounds` times
// (default 3), and prints MB/s (10^6 bytes/s) per direction: median and best. Each timing
// includes connect and authentication, for both clients alike. Every copy is checked by SHA-256.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "kbix/core/digest.hpp"
#include "kbix/sftp/sftp.hpp"
#include "support/sshd_fixture.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using kbix::test::SshdServer;

constexpr const char* kCipher = "aes128-gcm@openssh.com";

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string sha(const fs::path& file) {
  auto hex = kbix::sha256_file_hex(file);
  if (!hex) throw std::runtime_error(hex.error().describe());
  return *hex;
}

void require(bool condition, const std::string& what) {
  if (!condition) throw std::runtime_error(what);
}

struct Figures {
  std::vector<double> up;
  std::vector<double> down;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double best(const std::vector<double>& values) {
  return *std::max_element(values.begin(), values.end());
}

void kbix_round(SshdServer& server, const fs::path& source, const fs::path& local_dir,
                const std::string& expected_sha, double megabytes, Figures& figures) {
  auto settings = server.client_settings();
  settings.ciphers = kCipher;
  const std::string name = "bench.p7m";
  auto start = Clock::now();
  {
    auto client = kbix::SftpClient::connect(settings);
    require(static_cast<bool>(client), "kbix connect");
    auto uploaded = client->upload(source, "naar-vdab", name);
    require(static_cast<bool>(uploaded), "kbix upload");
  }
  figures.up.push_back(megabytes / seconds_since(start));
  require(sha(server.remote_file("naar-vdab", name)) == expected_sha, "kbix upload sha");
  fs::rename(server.remote_file("naar-vdab", name), server.remote_file("van-vdab", name));

  const fs::path target = local_dir / "kbix-down.p7m";
  start = Clock::now();
  {
    auto client = kbix::SftpClient::connect(settings);
    require(static_cast<bool>(client), "kbix connect");
    auto downloaded = client->download("van-vdab", name, target);
    require(static_cast<bool>(downloaded), "kbix download");
  }
  figures.down.push_back(megabytes / seconds_since(start));
  require(sha(target) == expected_sha, "kbix download sha");
  fs::remove(target);
  fs::remove(server.remote_file("van-vdab", name));
}

void openssh_round(SshdServer& server, const fs::path& source, const fs::path& local_dir,
                   const std::string& expected_sha, double megabytes, Figures& figures) {
  const std::string name = "bench.p7m";
  const fs::path target = local_dir / "openssh-down.p7m";
  auto batch = [&](const std::string& command) {
    const fs::path file = local_dir / "batch";
    std::ofstream(file) << command << "\n";
    const std::string line =
        "sftp -q -F /dev/null -b '" + file.string() + "' -i '" + server.client_key().string() +
        "' -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile='" +
        server.known_hosts().string() +
        "' -o GlobalKnownHostsFile=/dev/null -o Ciphers=" + kCipher + " -P " +
        std::to_string(server.port()) + " " + server.user() + "@127.0.0.1 > /dev/null";
    require(std::system(line.c_str()) == 0, "sftp -b " + command);
  };
  auto start = Clock::now();
  batch("put '" + source.string() + "' naar-vdab/" + name);
  figures.up.push_back(megabytes / seconds_since(start));
  require(sha(server.remote_file("naar-vdab", name)) == expected_sha, "openssh upload sha");
  fs::rename(server.remote_file("naar-vdab", name), server.remote_file("van-vdab", name));

  start = Clock::now();
  batch("get van-vdab/" + name + " '" + target.string() + "'");
  figures.down.push_back(megabytes / seconds_since(start));
  require(sha(target) == expected_sha, "openssh download sha");
  fs::remove(target);
  fs::remove(server.remote_file("van-vdab", name));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    spdlog::set_level(spdlog::level::warn);
    const std::uint64_t mebibytes = argc > 1 ? std::stoull(argv[1]) : 100;
    const int rounds = argc > 2 ? std::stoi(argv[2]) : 3;
    require(rounds > 0 && mebibytes > 0, "usage: sftp_bench [MiB] [rounds]");
    SshdServer server;
    const fs::path local_dir = kbix::test::make_temp_dir("kbix-sftp-bench");
    const fs::path source = local_dir / "source.p7m";
    const std::uint64_t bytes = mebibytes * 1024 * 1024;
    kbix::test::write_random_file(source, bytes, 2026);
    const std::string expected_sha = sha(source);
    const double megabytes = static_cast<double>(bytes) / 1e6;

    Figures kbix_figures;
    Figures openssh_figures;
    for (int round = 0; round < rounds; ++round) {  // interleaved: both see the same conditions
      kbix_round(server, source, local_dir, expected_sha, megabytes, kbix_figures);
      openssh_round(server, source, local_dir, expected_sha, megabytes, openssh_figures);
    }
    fs::remove_all(local_dir);

    std::printf("file: %llu MiB, rounds: %d, cipher: %s, loopback sshd (OpenSSH internal-sftp)\n\n",
                static_cast<unsigned long long>(mebibytes), rounds, kCipher);
    std::printf("| client | upload MB/s (median / best) | download MB/s (median / best) |\n");
    std::printf("|---|---|---|\n");
    std::printf("| kbix (libssh) | %.1f / %.1f | %.1f / %.1f |\n", median(kbix_figures.up),
                best(kbix_figures.up), median(kbix_figures.down), best(kbix_figures.down));
    std::printf("| OpenSSH sftp -b | %.1f / %.1f | %.1f / %.1f |\n", median(openssh_figures.up),
                best(openssh_figures.up), median(openssh_figures.down), best(openssh_figures.down));
    std::printf("\nratio kbix/OpenSSH (medians): upload %.2f, download %.2f\n",
                median(kbix_figures.up) / median(openssh_figures.up),
                median(kbix_figures.down) / median(openssh_figures.down));
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "sftp_bench: %s\n", error.what());
    return 1;
  }
}
