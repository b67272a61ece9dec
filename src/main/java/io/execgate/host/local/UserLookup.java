package io.execgate.host.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Objects;
import java.util.Set;

import io.execgate.host.StartFailure;
import org.jspecify.annotations.Nullable;

/**
 * Resolves a {@code user} value ({@code uid}, {@code uid:gid}, {@code name}, {@code name:group}) against the
 * host's {@code /etc/passwd} and {@code /etc/group}, the way Docker and runc do: a name must exist, a number
 * need not; without a group the user's primary group is used, or 0 when the user has no passwd entry.
 *
 * <p>Every exec on the host asks (for its {@code HOME} at least), so each file is parsed once and parsed again only
 * when its identity, size or modification time changes: an edit in place and a replacement by rename both show.
 */
final class UserLookup {

    private final Path passwd;
    private final Path group;
    /** No file's modification time: a {@link Parsed} made with it describes no file, so it is parsed again. */
    private static final FileTime NEVER = FileTime.fromMillis(Long.MIN_VALUE);
    private volatile @Nullable Parsed passwdEntries;
    private volatile @Nullable Parsed groupEntries;

    /** A file's entries as parsed, and what the file looked like then. */
    private record Parsed(@Nullable Object key, long size, FileTime modified, List<Entry> entries) {

        boolean describes(BasicFileAttributes now) {
            return Objects.equals(key, now.fileKey()) && size == now.size() && modified.equals(now.lastModifiedTime());
        }
    }

    UserLookup(Path passwd, Path group) {
        this.passwd = passwd;
        this.group = group;
    }

    static UserLookup system() {
        return new UserLookup(Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    private record Entry(String name, int id, int gid, String home, List<String> members) {
    }

    Credentials resolve(String user) throws StartFailure {
        int colon = user.indexOf(':');
        String userPart = colon < 0 ? user : user.substring(0, colon);
        String groupPart = colon < 0 ? null : user.substring(colon + 1);
        if (userPart.isEmpty() || (groupPart != null && groupPart.isEmpty())) {
            throw new StartFailure(StartFailure.Kind.BAD_USER, "invalid user '" + user + "': expected uid[:gid] or name[:group]");
        }
        List<Entry> users = passwdEntries();
        Optional<Entry> entry;
        int uid;
        if (isNumber(userPart)) {
            int id = parseId(userPart);
            uid = id;
            entry = users.stream().filter(e -> e.id() == id).findFirst();
        } else {
            entry = users.stream().filter(e -> e.name().equals(userPart)).findFirst();
            uid = entry.map(Entry::id).orElseThrow(() -> new StartFailure(StartFailure.Kind.BAD_USER,
                    "unable to find user " + userPart + ": no matching entries in passwd file"));
        }
        List<Entry> groups = groupEntries();
        int gid;
        if (groupPart == null) {
            gid = entry.map(Entry::gid).orElse(0);
        } else if (isNumber(groupPart)) {
            gid = parseId(groupPart);
        } else {
            gid = groups.stream().filter(g -> g.name().equals(groupPart)).findFirst().map(Entry::id)
                    .orElseThrow(() -> new StartFailure(StartFailure.Kind.BAD_USER,
                            "unable to find group " + groupPart + ": no matching entries in group file"));
        }
        Set<Integer> supplementary = new HashSet<>();
        if (groupPart == null) { // a named group is the whole group list, as in runc
            entry.ifPresent(e -> groups.stream().filter(g -> g.members().contains(e.name()))
                    .forEach(g -> supplementary.add(g.id())));
        }
        return new Credentials(uid, gid, supplementary, groupPart == null ? entry.map(Entry::name).orElse(null) : null,
                entry.map(Entry::home).orElse(null));
    }

    /** The passwd entry's home for a uid, if there is one. */
    Optional<String> home(int uid) {
        try {
            return passwdEntries().stream().filter(e -> e.id() == uid).findFirst().map(Entry::home);
        } catch (StartFailure e) {
            return Optional.empty();
        }
    }

    private static boolean isNumber(String value) {
        return value.chars().allMatch(Character::isDigit);
    }

    private static int parseId(String value) throws StartFailure {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new StartFailure(StartFailure.Kind.BAD_USER, "user or group id out of range: " + value);
        }
    }

    private static boolean isId(String value) {
        return !value.isEmpty() && value.length() < 10 && isNumber(value);
    }

    private List<Entry> passwdEntries() throws StartFailure {
        Parsed parsed = current(passwd, false, passwdEntries);
        passwdEntries = parsed;
        return parsed.entries();
    }

    private List<Entry> groupEntries() throws StartFailure {
        Parsed parsed = current(group, true, groupEntries);
        groupEntries = parsed;
        return parsed.entries();
    }

    /** The cached entries while the file is unchanged, else the file parsed again. */
    private static Parsed current(Path file, boolean groupFile, @Nullable Parsed cached) throws StartFailure {
        try {
            BasicFileAttributes before = Files.readAttributes(file, BasicFileAttributes.class);
            if (cached != null && cached.describes(before)) {
                return cached;
            }
            Parsed parsed = new Parsed(before.fileKey(), before.size(), before.lastModifiedTime(),
                    parse(Files.readAllLines(file), groupFile));
            // Changed while it was read: use what was read this time, but do not keep it.
            return parsed.describes(Files.readAttributes(file, BasicFileAttributes.class)) ? parsed
                    : new Parsed(null, -1, NEVER, parsed.entries());
        } catch (NoSuchFileException e) {
            return new Parsed(null, -1, NEVER, List.of());
        } catch (IOException e) {
            throw new StartFailure(StartFailure.Kind.BAD_USER, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<Entry> parse(List<String> lines, boolean groupFile) {
        return lines.stream().filter(l -> !l.isBlank() && !l.startsWith("#"))
                .map(l -> l.split(":", -1))
                .filter(f -> f.length >= (groupFile ? 4 : 7) && isId(f[2]) && (groupFile || isId(f[3])))
                .map(f -> groupFile
                        ? new Entry(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[2]), "", members(f[3]))
                        : new Entry(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[5], List.of()))
                .toList();
    }

    private static List<String> members(String field) {
        return field.isEmpty() ? List.of() : List.of(field.split(","));
    }
}
