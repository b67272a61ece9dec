package io.execgate;

import java.nio.file.Path;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code execgate.*} keys of the service as a whole.
 *
 * @param dataDir where the service keeps its state (the exec records in execgate.db, the generated
 *                admin token, upstream pipes, container exec files)
 */
@ConfigurationProperties("execgate")
public record ExecgateProperties(@DefaultValue("./data") Path dataDir) {
}
