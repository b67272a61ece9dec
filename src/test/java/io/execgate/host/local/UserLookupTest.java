package io.execgate.host.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.file.Files;
import java.nio.file.Path;

import io.execgate.host.StartFailure;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserLookupTest {

    @TempDir
    Path dir;
    private UserLookup users;

    @BeforeEach
    void files() throws Exception {
        Files.writeString(dir.resolve("passwd"), """
                root:x:0:0:root:/root:/bin/bash
                # a comment
                alice:x:1000:1000:Alice:/home/alice:/bin/sh
                broken:x:notanumber:1:x:/x:/bin/sh
                bob:x:1001:100::/home/bob:/bin/sh
                """);
        Files.writeString(dir.resolve("group"), """
                root:x:0:
                users:x:100:alice
                alice:x:1000:
                docker:x:999:alice,bob
                """);
        users = new UserLookup(dir.resolve("passwd"), dir.resolve("group"));
    }

    @Test
    void aNameTakesItsUidPrimaryGroupHomeAndGroups() throws Exception {
        Credentials alice = users.resolve("alice");
        assertThat(alice.uid()).isEqualTo(1000);
        assertThat(alice.gid()).isEqualTo(1000);
        assertThat(alice.home()).isEqualTo("/home/alice");
        assertThat(alice.groupsOf()).isEqualTo("alice");
        assertThat(alice.groups()).containsExactlyInAnyOrder(100, 999);
    }

    @Test
    void aKnownUidIsNamedAndAGroupCanBeGivenByNameOrNumber() throws Exception {
        Credentials bob = users.resolve("1001:docker");
        assertThat(bob.gid()).isEqualTo(999);
        assertThat(bob.groupsOf()).as("a named group is the only one, as in runc").isNull();
        assertThat(bob.groups()).isEmpty();
        assertThat(users.resolve("alice:users").groups()).isEmpty();
        assertThat(users.resolve("1001").groupsOf()).isEqualTo("bob");
        assertThat(users.resolve("bob:42").gid()).isEqualTo(42);
    }

    @Test
    void anUnknownUidRunsWithGroupZeroAsDockerDoes() throws Exception {
        Credentials stranger = users.resolve("4242");
        assertThat(stranger.uid()).isEqualTo(4242);
        assertThat(stranger.gid()).isZero();
        assertThat(stranger.groupsOf()).isNull();
        assertThat(stranger.home()).isNull();
        assertThat(users.resolve("4242:4242").gid()).isEqualTo(4242);
    }

    @Test
    void unknownNamesAndMalformedValuesAreBadUsers() {
        assertBadUser("nobody-here", "unable to find user nobody-here: no matching entries in passwd file");
        assertBadUser("alice:nogroup", "unable to find group nogroup: no matching entries in group file");
        assertBadUser(":1", "invalid user");
        assertBadUser("alice:", "invalid user");
        assertBadUser("99999999999", "out of range");
    }

    private void assertBadUser(String user, String message) {
        assertThatExceptionOfType(StartFailure.class).isThrownBy(() -> users.resolve(user))
                .satisfies(e -> assertThat(e.kind()).isEqualTo(StartFailure.Kind.BAD_USER))
                .withMessageContaining(message);
    }

    @Test
    void anEditedOrReplacedFileIsReadAgain() throws Exception {
        assertThat(users.home(1000)).contains("/home/alice");
        // an edit in place that keeps the size: only the modification time tells
        Path passwd = dir.resolve("passwd");
        Files.writeString(passwd, Files.readString(passwd).replace("/home/alice", "/home/alica"));
        Files.setLastModifiedTime(passwd, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(passwd).toMillis() + 5_000));
        assertThat(users.home(1000)).contains("/home/alica");
        // a replacement by rename, as useradd and vipw make it
        Path replacement = dir.resolve("passwd.new");
        Files.writeString(replacement, "carol:x:1000:1000::/home/carol:/bin/sh\n");
        Files.move(replacement, passwd, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertThat(users.resolve("1000").groupsOf()).isEqualTo("carol");
        Files.delete(passwd);
        assertThat(users.home(1000)).isEmpty();
    }
}
