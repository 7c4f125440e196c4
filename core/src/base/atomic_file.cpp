#include "prn/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace prn {
namespace {

constexpr std::string_view kTemporaryTag = ".tmp-";
constexpr size_t kTemporaryRandom = 6; // mkstemp's XXXXXX

std::string failure(const char *what, const std::string &path, int err) {
  return std::string(what) + " '" + path + "': " + std::strerror(err);
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

} // namespace

AtomicWriteResult write_file_atomically(const std::string &path, std::string_view bytes,
                                        AtomicWriteOptions options) {
  AtomicWriteResult result;
  const size_t slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty()) {
    result.error = "cannot write '" + path + "': expected a file name, got a folder";
    return result;
  }
  std::string pattern = folder + "/." + name + std::string(kTemporaryTag) + std::string(kTemporaryRandom, 'X');
  std::vector<char> tmp(pattern.begin(), pattern.end());
  tmp.push_back('\0');
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    result.error = failure("cannot create a temporary file beside", path, errno);
    return result;
  }
  int err = 0;
  if (!write_all(fd, bytes) || ::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)
    err = errno;
  if (::close(fd) != 0 && err == 0)
    err = errno;
  if (err == 0) {
    const int renamed = options.replace
                            ? std::rename(tmp.data(), path.c_str())
                            : ::renameat2(AT_FDCWD, tmp.data(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
    if (renamed != 0) {
      err = errno;
      result.exists = !options.replace && err == EEXIST;
    }
  }
  if (err != 0) {
    ::unlink(tmp.data());
    result.error = failure("cannot write", path, err);
    return result;
  }
  // The rename is durable once the folder is synced; a folder that cannot be
  // opened for it (no read permission) still has the whole file.
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return result;
}

bool is_atomic_temporary(const std::string &file_name, std::string *target) {
  const size_t tail = kTemporaryTag.size() + kTemporaryRandom;
  if (file_name.size() < 2 + tail || file_name[0] != '.')
    return false;
  const size_t tag = file_name.size() - tail;
  if (file_name.compare(tag, kTemporaryTag.size(), kTemporaryTag) != 0)
    return false;
  if (target != nullptr)
    *target = file_name.substr(1, tag - 1);
  return true;
}

} // namespace prn
