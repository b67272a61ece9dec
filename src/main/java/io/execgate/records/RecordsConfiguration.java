package io.execgate.records;

import io.execgate.DataDirectory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Opens the records database under {@code execgate.data-dir} (failing the start when it cannot be used) and
 * serves it as the exec layer's store and as {@code /actuator/health/records}, which the readiness group includes:
 * a service that cannot record execs takes none. It is DOWN while the file is gone or replaced, and after a
 * failed write (a full disk) until a probe write succeeds.
 */
@Configuration(proxyBeanMethods = false)
class RecordsConfiguration {

    @Bean(destroyMethod = "close")
    RecordsDatabase recordsDatabase(DataDirectory data) {
        SqliteLibraryDirectory.use(data.path()); // before the first connection extracts the library
        return RecordsDatabase.open(data.path());
    }

    @Bean(destroyMethod = "closeStatements") // before the database it depends on closes
    SqliteExecStore execStore(RecordsDatabase recordsDatabase) {
        return new SqliteExecStore(recordsDatabase);
    }

    @Bean
    HealthIndicator records(RecordsDatabase recordsDatabase, SqliteExecStore execStore) {
        return () -> {
            try {
                recordsDatabase.checkStillThere();
                String writeFailure = execStore.writeFailure();
                if (writeFailure != null) {
                    return Health.down().withDetail("file", recordsDatabase.file().toString())
                            .withDetail("detail", "the last write failed: " + writeFailure).build();
                }
                return Health.up().withDetail("file", recordsDatabase.file().toString())
                        .withDetail("records", execStore.count()).build();
            } catch (RuntimeException e) {
                return Health.down().withDetail("file", recordsDatabase.file().toString())
                        .withDetail("detail", e.getMessage()).build();
            }
        };
    }
}
