// Folders kbix makes for operators inside the package's group folders (see group_folder.hpp in
// internal/exchange_internal.hpp).
#include <grp.h>
#include <sys/stat.h>

#include <cstdio>
#include <vector>

#include "internal/exchange_internal.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

Status ensure_group_folder(const fs::path& dir, mode_t wanted, const std::string& group_name) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return fail("io.create", "cannot create the folder " + dir.string());
  struct stat status {};
  if (::stat(dir.c_str(), &status) != 0 || !S_ISDIR(status.st_mode)) {
    return fail("io.permissions", "cannot read the rights of the folder " + dir.string());
  }
  const std::string remedy = "; give " + dir.parent_path().string() + " the package's rights (" +
                             octal(wanted) + ", group " +
                             (group_name.empty() ? std::string("kbix") : group_name) +
                             ", a default ACL: see kbix.tmpfiles) or make " + dir.string() +
                             " so by hand (docs/operator-guide.md)";
  // Only what is not right already: the service may neither chmod a setgid bit nor chown.
  if ((status.st_mode & 07777) != wanted && ::chmod(dir.c_str(), wanted) != 0) {
    return fail("io.permissions", "the folder " + dir.string() + " has mode " +
                                      octal(status.st_mode) + ", not " + octal(wanted) +
                                      ", and kbix may not change it" + remedy);
  }
  if (group_name.empty()) return ok();
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  if (::getgrnam_r(group_name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return fail("io.permissions",
                "the group " + group_name + " of [daemon] control_group does not exist");
  }
  if (status.st_gid != found->gr_gid &&
      ::chown(dir.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0) {
    return fail("io.permissions", "the folder " + dir.string() + " is not of the group " +
                                      group_name + " and kbix may not change it" + remedy);
  }
  return ok();
}

}  // namespace kbix
