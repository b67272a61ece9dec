package io.execgate.host.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import io.execgate.host.StartFailure;
import io.execgate.host.StartFailure.Kind;
import org.jspecify.annotations.Nullable;

/**
 * Resolves an exec's {@code user} ({@code uid[:gid]} or {@code name[:group]}) against the container's own
 * {@code /etc/passwd} and {@code /etc/group}, as Docker and runc's {@code GetExecUser} do: the runtimes take
 * numbers only, and give a bare uid the gid 0 and no supplementary groups.
 */
final class ContainerUsers {

    private static final int MAX_FILE = 4 * 1024 * 1024;

    /** The numeric identity the process spec carries. */
    record Identity(long uid, long gid, List<Long> additionalGids) {
    }

    private final Path rootDir;

    /** @param rootDir the container's root as the host sees it ({@code /proc/<init pid>/root}) */
    ContainerUsers(Path rootDir) {
        this.rootDir = rootDir;
    }

    Identity resolve(String user) throws StartFailure {
        int colon = user.indexOf(':');
        String userPart = colon < 0 ? user : user.substring(0, colon);
        String groupPart = colon < 0 ? null : user.substring(colon + 1);
        if (userPart.isEmpty() || (groupPart != null && groupPart.isEmpty())) {
            throw new StartFailure(Kind.BAD_USER, "user must be uid[:gid] or name[:group]: " + user);
        }
        List<String[]> passwd = read("passwd", userPart);
        String[] entry = null;
        Long uid = number(userPart);
        for (String[] fields : passwd) {
            if (fields.length >= 4 && (uid == null ? fields[0].equals(userPart) : fields[2].equals(userPart))) {
                entry = fields;
                break;
            }
        }
        if (uid == null) {
            if (entry == null) {
                throw new StartFailure(Kind.BAD_USER, "no user " + userPart + " in the container's /etc/passwd");
            }
            uid = parseId(entry[2], "uid of " + userPart);
        }
        long gid;
        if (groupPart != null) {
            gid = group(groupPart);
        } else {
            gid = entry != null ? parseId(entry[3], "gid of " + userPart) : 0;
        }
        List<Long> additional = new ArrayList<>();
        // Supplementary groups come with the implicit form only: a named group is the whole group list, as in runc.
        if (entry != null && groupPart == null) {
            TreeSet<Long> member = new TreeSet<>();
            for (String[] fields : read("group", null)) {
                if (fields.length >= 4 && List.of(fields[3].split(",")).contains(entry[0])) {
                    Long id = number(fields[2]);
                    if (id != null && id != gid) {
                        member.add(id);
                    }
                }
            }
            additional.addAll(member);
        }
        return new Identity(uid, gid, additional);
    }

    /**
     * An exec as a named user keeps the groups added to the container (Docker's {@code --group-add}, a pod's
     * {@code supplementalGroups} and {@code fsGroup}), as {@code docker exec --user} does: those its process has
     * beyond its own user's groups, its primary ones included (containerd and Docker put the primary gid among
     * {@code additionalGids} too: a root container's 0 is not an added group). A pod's volume stays writable to the
     * exec.
     *
     * @param named     the user the exec asked for
     * @param container the container process's own user, groups as its {@code config.json} gives them
     * @param own       the container process's user as the container's {@code /etc/passwd} and {@code /etc/group} give it
     */
    static Identity withAddedGroups(Identity named, Identity container, Identity own) {
        TreeSet<Long> gids = new TreeSet<>(named.additionalGids());
        for (long gid : container.additionalGids()) {
            if (gid != container.gid() && gid != own.gid() && !own.additionalGids().contains(gid)) {
                gids.add(gid);
            }
        }
        gids.remove(named.gid());
        return new Identity(named.uid(), named.gid(), List.copyOf(gids));
    }

    private long group(String groupPart) throws StartFailure {
        Long gid = number(groupPart);
        if (gid != null) {
            return gid;
        }
        for (String[] fields : read("group", groupPart)) {
            if (fields.length >= 3 && fields[0].equals(groupPart)) {
                return parseId(fields[2], "gid of group " + groupPart);
            }
        }
        throw new StartFailure(Kind.BAD_USER, "no group " + groupPart + " in the container's /etc/group");
    }

    /**
     * The lines of {@code /etc/<name>} split at colons, read inside the container's root ({@link ContainerFiles}).
     * A missing file has no lines, unless a name had to be found in it.
     */
    private List<String[]> read(String name, @Nullable String lookingFor) throws StartFailure {
        byte[] bytes;
        try {
            bytes = ContainerFiles.read(rootDir, "etc/" + name, MAX_FILE);
        } catch (IOException e) {
            throw new StartFailure(Kind.BAD_USER, "cannot read the container's /etc/" + name + ": " + e.getMessage(), e);
        }
        if (bytes == null) {
            if (lookingFor != null && number(lookingFor) == null) {
                throw new StartFailure(Kind.BAD_USER, "cannot resolve " + lookingFor + ": the container has no /etc/" + name);
            }
            return List.of();
        }
        return new String(bytes, StandardCharsets.UTF_8).lines()
                .filter(line -> !line.isBlank() && !line.startsWith("#"))
                .map(line -> line.split(":", -1))
                .toList();
    }

    private static @Nullable Long number(String text) {
        if (text.isEmpty() || text.length() > 10 || !text.chars().allMatch(Character::isDigit)) {
            return null;
        }
        long value = Long.parseLong(text);
        return value <= 0xFFFF_FFFEL ? value : null;
    }

    private static long parseId(String text, String what) throws StartFailure {
        Long value = number(text);
        if (value == null) {
            throw new StartFailure(Kind.BAD_USER, "the container's " + what + " is not a number");
        }
        return value;
    }
}
