/* lazy: libcurl and libarchive, loaded with dlopen on first use.
 *
 * `moat run` on an image already in the store needs neither: linked normally they bring ~45
 * shared objects (gnutls, krb5, ldap, libxml2, ...) whose mapping and relocation cost more than
 * the rest of a container start. The files that use the two libraries include this header instead
 * of <curl/curl.h> / <archive.h>: each function name becomes a pointer in a table filled by
 * moat_curl_load() / moat_archive_load(), which every path calls before its first handle is made
 * (they are cheap once loaded). Types and constants still come from the libraries' own headers. */
#ifndef MOAT_IMAGE_LAZY_H
#define MOAT_IMAGE_LAZY_H

#define CURL_DISABLE_TYPECHECK 1 /* its checking macros call curl_easy_setopt by name */
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>

#include "util/util.h"

#define MOAT_CURL_SYMS(X)                                                                         \
        X(curl_global_init) X(curl_easy_init) X(curl_easy_setopt) X(curl_easy_perform)            \
        X(curl_easy_getinfo) X(curl_easy_cleanup) X(curl_easy_strerror) X(curl_free)             \
        X(curl_slist_append) X(curl_slist_free_all) X(curl_url) X(curl_url_set) X(curl_url_get)   \
        X(curl_url_cleanup) X(curl_multi_init) X(curl_multi_setopt) X(curl_multi_add_handle)      \
        X(curl_multi_remove_handle) X(curl_multi_perform) X(curl_multi_poll)                      \
        X(curl_multi_info_read) X(curl_multi_cleanup)

#define MOAT_ARCHIVE_SYMS(X)                                                                      \
        X(archive_read_new) X(archive_read_free) X(archive_read_open) X(archive_read_open_fd)     \
        X(archive_read_next_header) X(archive_read_data) X(archive_read_data_block)               \
        X(archive_read_support_filter_gzip) X(archive_read_support_filter_xz)                     \
        X(archive_read_support_filter_zstd) X(archive_read_support_format_empty)                  \
        X(archive_read_support_format_raw) X(archive_read_support_format_tar)                     \
        X(archive_write_new) X(archive_write_free) X(archive_write_open_fd) X(archive_write_close) \
        X(archive_write_header) X(archive_write_data) X(archive_write_set_bytes_in_last_block)    \
        X(archive_write_set_format_pax_restricted) X(archive_set_error) X(archive_error_string)   \
        X(archive_entry_new) X(archive_entry_free) X(archive_entry_filetype)                      \
        X(archive_entry_set_filetype) X(archive_entry_pathname) X(archive_entry_set_pathname)     \
        X(archive_entry_perm) X(archive_entry_set_perm) X(archive_entry_size)                     \
        X(archive_entry_set_size) X(archive_entry_uid) X(archive_entry_gid)                       \
        X(archive_entry_mtime) X(archive_entry_mtime_nsec) X(archive_entry_mtime_is_set)          \
        X(archive_entry_set_mtime) X(archive_entry_hardlink) X(archive_entry_symlink)             \
        X(archive_entry_xattr_reset) X(archive_entry_xattr_next)

#define MOAT_LAZY_SLOT(name) __typeof__(name) *name;
struct moat_curl_api {
        MOAT_CURL_SYMS(MOAT_LAZY_SLOT)
};
struct moat_archive_api {
        MOAT_ARCHIVE_SYMS(MOAT_LAZY_SLOT)
};
#undef MOAT_LAZY_SLOT
extern struct moat_curl_api moat_curl;
extern struct moat_archive_api moat_archive;

/* Load the library (once; libcurl also gets curl_global_init). The error names the soname and
 * the missing symbol, e.g. when the package is not installed. */
int moat_curl_load(struct moat_error *err);
int moat_archive_load(struct moat_error *err);

#ifndef MOAT_LAZY_IMPL
/* From here on a call by the library's name goes through the table. (curl.h defines the three
 * variadic ones as function-like macros of themselves.) */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init moat_curl.curl_global_init
#define curl_easy_init moat_curl.curl_easy_init
#define curl_easy_setopt moat_curl.curl_easy_setopt
#define curl_easy_perform moat_curl.curl_easy_perform
#define curl_easy_getinfo moat_curl.curl_easy_getinfo
#define curl_easy_cleanup moat_curl.curl_easy_cleanup
#define curl_easy_strerror moat_curl.curl_easy_strerror
#define curl_free moat_curl.curl_free
#define curl_slist_append moat_curl.curl_slist_append
#define curl_slist_free_all moat_curl.curl_slist_free_all
#define curl_url moat_curl.curl_url
#define curl_url_set moat_curl.curl_url_set
#define curl_url_get moat_curl.curl_url_get
#define curl_url_cleanup moat_curl.curl_url_cleanup
#define curl_multi_init moat_curl.curl_multi_init
#define curl_multi_setopt moat_curl.curl_multi_setopt
#define curl_multi_add_handle moat_curl.curl_multi_add_handle
#define curl_multi_remove_handle moat_curl.curl_multi_remove_handle
#define curl_multi_perform moat_curl.curl_multi_perform
#define curl_multi_poll moat_curl.curl_multi_poll
#define curl_multi_info_read moat_curl.curl_multi_info_read
#define curl_multi_cleanup moat_curl.curl_multi_cleanup

#define archive_read_new moat_archive.archive_read_new
#define archive_read_free moat_archive.archive_read_free
#define archive_read_open moat_archive.archive_read_open
#define archive_read_open_fd moat_archive.archive_read_open_fd
#define archive_read_next_header moat_archive.archive_read_next_header
#define archive_read_data moat_archive.archive_read_data
#define archive_read_data_block moat_archive.archive_read_data_block
#define archive_read_support_filter_gzip moat_archive.archive_read_support_filter_gzip
#define archive_read_support_filter_xz moat_archive.archive_read_support_filter_xz
#define archive_read_support_filter_zstd moat_archive.archive_read_support_filter_zstd
#define archive_read_support_format_empty moat_archive.archive_read_support_format_empty
#define archive_read_support_format_raw moat_archive.archive_read_support_format_raw
#define archive_read_support_format_tar moat_archive.archive_read_support_format_tar
#define archive_write_new moat_archive.archive_write_new
#define archive_write_free moat_archive.archive_write_free
#define archive_write_open_fd moat_archive.archive_write_open_fd
#define archive_write_close moat_archive.archive_write_close
#define archive_write_header moat_archive.archive_write_header
#define archive_write_data moat_archive.archive_write_data
#define archive_write_set_bytes_in_last_block moat_archive.archive_write_set_bytes_in_last_block
#define archive_write_set_format_pax_restricted moat_archive.archive_write_set_format_pax_restricted
#define archive_set_error moat_archive.archive_set_error
#define archive_error_string moat_archive.archive_error_string
#define archive_entry_new moat_archive.archive_entry_new
#define archive_entry_free moat_archive.archive_entry_free
#define archive_entry_filetype moat_archive.archive_entry_filetype
#define archive_entry_set_filetype moat_archive.archive_entry_set_filetype
#define archive_entry_pathname moat_archive.archive_entry_pathname
#define archive_entry_set_pathname moat_archive.archive_entry_set_pathname
#define archive_entry_perm moat_archive.archive_entry_perm
#define archive_entry_set_perm moat_archive.archive_entry_set_perm
#define archive_entry_size moat_archive.archive_entry_size
#define archive_entry_set_size moat_archive.archive_entry_set_size
#define archive_entry_uid moat_archive.archive_entry_uid
#define archive_entry_gid moat_archive.archive_entry_gid
#define archive_entry_mtime moat_archive.archive_entry_mtime
#define archive_entry_mtime_nsec moat_archive.archive_entry_mtime_nsec
#define archive_entry_mtime_is_set moat_archive.archive_entry_mtime_is_set
#define archive_entry_set_mtime moat_archive.archive_entry_set_mtime
#define archive_entry_hardlink moat_archive.archive_entry_hardlink
#define archive_entry_symlink moat_archive.archive_entry_symlink
#define archive_entry_xattr_reset moat_archive.archive_entry_xattr_reset
#define archive_entry_xattr_next moat_archive.archive_entry_xattr_next
#endif

#endif
