// Atomic file writes (prn/atomic_file.h) and the core's throwing wrapper.
#include "prn/atomic_file.h"
#include "prn/state_dict.h"
#include "test_util.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace {

std::string file_text(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> folder_names(const std::string &folder) {
  std::vector<std::string> names;
  for (const auto &e : std::filesystem::directory_iterator(folder))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace

TEST(AtomicFile, WritesTheBytesWithNothingLeftBeside) {
  prn::test::TempDir dir;
  std::string bytes(100000, '\0');
  for (size_t i = 0; i < bytes.size(); i++)
    bytes[i] = static_cast<char>(i * 7);
  const prn::AtomicWriteResult r = prn::write_file_atomically(dir.file("a.bin"), bytes);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.exists);
  EXPECT_EQ(file_text(dir.file("a.bin")), bytes);
  EXPECT_EQ(folder_names(dir.path()), std::vector<std::string>{"a.bin"});
  struct stat st;
  ASSERT_EQ(::stat(dir.file("a.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(AtomicFile, ReplacesOrKeepsAnExistingFileAsAsked) {
  prn::test::TempDir dir;
  const std::string path = dir.file("m.json");
  ASSERT_TRUE(prn::write_file_atomically(path, "first").ok());
  ASSERT_TRUE(prn::write_file_atomically(path, "second").ok());
  EXPECT_EQ(file_text(path), "second");

  const prn::AtomicWriteResult kept = prn::write_file_atomically(path, "third", {.replace = false});
  EXPECT_FALSE(kept.ok());
  EXPECT_TRUE(kept.exists);
  EXPECT_NE(kept.error.find(path), std::string::npos) << kept.error;
  EXPECT_EQ(file_text(path), "second");
  EXPECT_EQ(folder_names(dir.path()), std::vector<std::string>{"m.json"});

  const prn::AtomicWriteResult fresh = prn::write_file_atomically(dir.file("n.json"), "new", {.replace = false});
  EXPECT_TRUE(fresh.ok()) << fresh.error;
  EXPECT_EQ(file_text(dir.file("n.json")), "new");
}

TEST(AtomicFile, FailuresAreNamedAndLeaveNoTemporaryFile) {
  prn::test::TempDir dir;
  // A folder where the file should go: the rename fails after the bytes were written.
  ASSERT_EQ(::mkdir(dir.file("taken").c_str(), 0755), 0);
  const prn::AtomicWriteResult r = prn::write_file_atomically(dir.file("taken"), "bytes");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.exists);
  EXPECT_NE(r.error.find(dir.file("taken")), std::string::npos) << r.error;
  EXPECT_EQ(folder_names(dir.path()), std::vector<std::string>{"taken"});
  EXPECT_TRUE(std::filesystem::is_directory(dir.file("taken")));

  const prn::AtomicWriteResult missing = prn::write_file_atomically(dir.file("no/such/folder/x"), "bytes");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.error.find("no/such/folder/x"), std::string::npos) << missing.error;
  EXPECT_FALSE(prn::write_file_atomically(dir.path() + "/", "bytes").ok());

  // The core's wrapper throws prn::Error with the same text.
  EXPECT_PRN_ERROR(prn::write_file_atomic(dir.file("taken"), "bytes"), "/taken'", "cannot write");
}

TEST(AtomicFile, TellsItsTemporaryNames) {
  std::string target;
  EXPECT_TRUE(prn::is_atomic_temporary(".a.png.tmp-Ab12Cd", &target));
  EXPECT_EQ(target, "a.png");
  EXPECT_TRUE(prn::is_atomic_temporary(".x.tmp-XXXXXX"));
  EXPECT_FALSE(prn::is_atomic_temporary("a.png.tmp-Ab12Cd")); // not hidden
  EXPECT_FALSE(prn::is_atomic_temporary(".a.png.tmp"));       // no random part
  EXPECT_FALSE(prn::is_atomic_temporary(".a.png.tmp-Ab12"));  // too short
  EXPECT_FALSE(prn::is_atomic_temporary(".tmp-Ab12Cd"));      // no name
  EXPECT_FALSE(prn::is_atomic_temporary("a.png"));
}
