package io.execgate.host.local;

import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * Who a process runs as.
 *
 * @param uid    user id
 * @param gid    primary group id
 * @param groups   supplementary group ids (from {@code /etc/group}); used to check that the executable can be run
 * @param groupsOf the passwd name whose {@code /etc/group} memberships become the process's supplementary groups
 *                 ({@code setpriv --init-groups}); null when a group was named, which is then the only one (as runc and
 *                 Docker have it: {@code user:group} narrows), or when the uid has no passwd entry
 * @param home     the user's home directory when {@code /etc/passwd} has it
 */
record Credentials(int uid, int gid, Set<Integer> groups, @Nullable String groupsOf, @Nullable String home) {

    Credentials {
        groups = Set.copyOf(groups);
    }

    boolean isMember(int group) {
        return gid == group || groups.contains(group);
    }
}
