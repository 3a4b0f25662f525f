#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/* MHD_get_connection_info is variadic, so Swift cannot import it: a fixed-argument wrapper. */
static inline int cmhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

/* The pointer a connection notification stored in its `socket_context` (NULL when none was). */
static inline void *cmhd_connection_socket_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Header fields and query arguments in one pass of the iterator (Swift imports MHD_ValueKind as a
 * closed enum, so it cannot name the two kinds together); each call of `iterator` gets one kind. */
static inline int cmhd_headers_and_arguments(struct MHD_Connection *connection, MHD_KeyValueIterator iterator,
                                             void *cls) {
    return MHD_get_connection_values(connection, (enum MHD_ValueKind)(MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND),
                                     iterator, cls);
}
#endif
