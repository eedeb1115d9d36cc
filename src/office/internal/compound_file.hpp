// An OLE compound file (MS-CFB) written in memory with libgsf: the container of an ECMA-376
// Encrypted Package. Paths use '/' between storages ("\x06DataSpaces/Version").
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kbix/core/result.hpp"

namespace kbix::office::internal {

struct CompoundStream {
  std::string path;   // storages separated by '/', created as needed
  std::string bytes;  // the stream's content
};

// The whole compound file. Streams are written in the order given; a storage is created the
// first time a path names it. Error "office.cfb_write".
Result<std::string> write_compound_file(const std::vector<CompoundStream>& streams);

}  // namespace kbix::office::internal
