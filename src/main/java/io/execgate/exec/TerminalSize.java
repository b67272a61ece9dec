package io.execgate.exec;

import io.execgate.host.ConsoleSize;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/** A terminal size in character cells, in requests: the first console size and {@code POST .../resize}. */
@Schema(description = "A terminal size in character cells.")
public record TerminalSize(
        @Schema(description = "Columns.", example = "120", minimum = "1", maximum = "65535")
        @NotNull @Min(1) @Max(65535) Integer width,
        @Schema(description = "Rows.", example = "40", minimum = "1", maximum = "65535")
        @NotNull @Min(1) @Max(65535) Integer height) {

    ConsoleSize toConsoleSize() {
        return new ConsoleSize(width, height);
    }
}
