package io.execgate.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import io.execgate.exec.Caller;

/**
 * The configured tokens, kept as SHA-256 digests. A presented token is hashed and compared with every entry in
 * constant time, all of them each time, so neither the comparison nor the number of entries tried tells an
 * attacker how close a guess came.
 */
final class StaticTokens {

    /** The principal of {@code execgate.security.admin-token} and of the generated admin token. */
    static final String ADMIN = "admin";

    /**
     * The names a configured token may not have: the admin token's principal and the service's own caller. A
     * principal's name keys its quotas and the audit trail, so two tokens with one name would share both.
     */
    static final Set<String> RESERVED_NAMES = Set.of(ADMIN, Caller.SERVICE.principal());

    /** A principal a token stands for. */
    record Principal(String name, Set<Role> roles) {
    }

    private record Entry(byte[] digest, Principal principal) {
    }

    private final List<Entry> entries;

    private StaticTokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /**
     * @throws IllegalStateException when two configured tokens have one name or one has a reserved name: the
     *                               service refuses to start, naming it
     */
    static StaticTokens of(List<SecurityProperties.TokenEntry> configured, List<Principal> plainTokensFor,
            List<String> plainTokens) {
        Set<String> names = new HashSet<>();
        for (SecurityProperties.TokenEntry entry : configured) {
            if (RESERVED_NAMES.contains(entry.name())) {
                throw new IllegalStateException("execgate.security.tokens: the name " + entry.name() + " is reserved ("
                        + String.join(" and ", new TreeSet<>(RESERVED_NAMES)) + " are the admin token's and the "
                        + "service's own); name the token otherwise");
            }
            if (!names.add(entry.name())) {
                throw new IllegalStateException("execgate.security.tokens: two tokens are named " + entry.name()
                        + "; a name keys its principal's quotas and audit lines, so each must be different");
            }
        }
        List<Entry> entries = new ArrayList<>();
        for (SecurityProperties.TokenEntry entry : configured) {
            entries.add(new Entry(HexFormat.of().parseHex(entry.sha256().toLowerCase(java.util.Locale.ROOT)),
                    new Principal(entry.name(), Set.copyOf(entry.roles()))));
        }
        for (int i = 0; i < plainTokens.size(); i++) {
            entries.add(new Entry(sha256(plainTokens.get(i)), plainTokensFor.get(i)));
        }
        return new StaticTokens(entries);
    }

    Optional<Principal> authenticate(String token) {
        byte[] presented = sha256(token);
        Principal found = null;
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.digest(), presented) && found == null) {
                found = entry.principal();
            }
        }
        return Optional.ofNullable(found);
    }

    static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
