package io.execgate.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The configured tokens, kept as SHA-256 digests. A presented token is hashed and compared with every entry in
 * constant time, all of them each time, so neither the comparison nor the number of entries tried tells an
 * attacker how close a guess came.
 */
final class StaticTokens {

    /** A principal a token stands for. */
    record Principal(String name, Set<Role> roles) {
    }

    private record Entry(byte[] digest, Principal principal) {
    }

    private final List<Entry> entries;

    private StaticTokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    static StaticTokens of(List<SecurityProperties.TokenEntry> configured, List<Principal> plainTokensFor,
            List<String> plainTokens) {
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
