package io.execgate.exec;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.NotBlank;

/** {@code POST .../signal}. */
@Schema(description = "A signal by name (SIGTERM, TERM) or number (15).")
public record SignalRequest(@Schema(example = "SIGTERM") @NotBlank String signal) {
}
