package io.execgate.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class EnvironmentTest {

    @Test
    void overridesReplaceEntriesInPlaceAndNewOnesFollow() {
        List<String> merged = Environment.merge(List.of("PATH=/bin", "A=1", "B=2"), List.of("A=x=y", "C=3", "PATH="));
        assertThat(merged).containsExactly("PATH=", "A=x=y", "B=2", "C=3");
    }

    @Test
    void getFindsTheLastEntryOfAKey() {
        List<String> env = List.of("HOME=/root", "HOMEDIR=/x", "HOME=/home/u");
        assertThat(Environment.get(env, "HOME")).contains("/home/u");
        assertThat(Environment.get(env, "HOM")).isEmpty();
        assertThat(Environment.get(List.of("EMPTY="), "EMPTY")).contains("");
    }
}
