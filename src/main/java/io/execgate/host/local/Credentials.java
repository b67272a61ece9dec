package io.execgate.host.local;

import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * Who a process runs as.
 *
 * @param uid    user id
 * @param gid    primary group id
 * @param groups supplementary group ids (from {@code /etc/group}); used to check that the executable can be run
 * @param name   the user's name when {@code /etc/passwd} has it, which lets {@code setpriv --init-groups} work
 * @param home   the user's home directory when {@code /etc/passwd} has it
 */
record Credentials(int uid, int gid, Set<Integer> groups, @Nullable String name, @Nullable String home) {

    Credentials {
        groups = Set.copyOf(groups);
    }

    boolean isMember(int group) {
        return gid == group || groups.contains(group);
    }
}
