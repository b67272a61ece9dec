package io.execgate.host.hcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.execgate.host.StartFailure.Kind;
import org.junit.jupiter.api.Test;

/** HRESULTs in both HCS severity forms and Win32 facility codes, and what they mean for the API. */
class HResultTest {

    @Test
    void hcsCodesMatchInBothSeverityForms() {
        assertThat(HResult.notFound(0x8037010E)).isTrue();
        assertThat(HResult.notFound(0xC037010E)).isTrue();
        assertThat(HResult.alreadyStopped(0x80370110)).isTrue();
        assertThat(HResult.alreadyStopped(0xC0370110)).isTrue();
        assertThat(HResult.alreadyStopped(0x8037011F)).isTrue();
        assertThat(HResult.is(0xC0370105, HResult.HCS_E_INVALID_STATE)).isTrue();
        assertThat(HResult.is(0x80070105, HResult.HCS_E_INVALID_STATE)).as("another facility").isFalse();
        assertThat(HResult.is(0x00370105, HResult.HCS_E_INVALID_STATE)).as("not a failure").isFalse();
    }

    @Test
    void win32FacilityCodesFoldToTheirLowWord() {
        assertThat(HResult.win32(0x80070490)).isEqualTo(1168);
        assertThat(HResult.notFound(0x80070490)).isTrue();
        assertThat(HResult.alreadyStopped(0x80070490)).as("not found is also already stopped").isTrue();
        assertThat(HResult.accessDenied(0x80070005)).isTrue();
        assertThat(HResult.accessDenied(0x8037011B)).isTrue();
        assertThat(HResult.notSupported(0x8007000D)).isTrue();
        assertThat(HResult.notSupported(0x80070032)).isTrue();
        assertThat(HResult.notSupported(0xC037010D)).isTrue();
        assertThat(HResult.win32(0x8037010E)).as("an HCS code stays whole").isEqualTo(0x8037010E);
        assertThat(HResult.hex(0x80070490)).isEqualTo("0x80070490");
    }

    @Test
    void failuresMapToTheApisAnswers() {
        assertThat(HcsProcessHost.kind(0x8037010E)).isEqualTo(Kind.TARGET_NOT_FOUND);
        assertThat(HcsProcessHost.kind(0xC037010E)).isEqualTo(Kind.TARGET_NOT_FOUND);
        assertThat(HcsProcessHost.kind(0x80370105)).isEqualTo(Kind.TARGET_GONE);
        assertThat(HcsProcessHost.kind(0xC0370110)).isEqualTo(Kind.TARGET_GONE);
        assertThat(HcsProcessHost.kind(0x80070005)).isEqualTo(Kind.ACCESS_DENIED);
        assertThat(HcsProcessHost.kind(0x80370118)).isEqualTo(Kind.BACKEND_UNAVAILABLE);
        assertThat(HcsProcessHost.kind(0x80070002)).isEqualTo(Kind.EXECUTABLE_NOT_FOUND);
        assertThat(HcsProcessHost.kind(0x8037010D)).isEqualTo(Kind.BACKEND_ERROR);
        assertThat(HResult.mayLoseExitEvent(0xC0370105)).isTrue();
        assertThat(HResult.mayLoseExitEvent(0x8037011F)).isFalse();
    }
}
