package io.execgate.exec;

import java.util.List;

/**
 * Where exec records are kept so they outlive the service. The registry writes through it: a record is saved
 * when it is made, when its process starts and when it ends, and deleted when the registry lets it go. Every call
 * returns once the change is durable (it survives the service being killed), so what a client has seen of an
 * exec is never lost.
 */
public interface ExecStore {

    /** Keeps records in memory only: for tests of the exec layer that are not about durability. */
    ExecStore NONE = new ExecStore() {
        @Override
        public List<ExecRecord> loadAll() {
            return List.of();
        }

        @Override
        public void save(ExecRecord record) {
        }

        @Override
        public void delete(String id) {
        }
    };

    /** Every record, oldest first. */
    List<ExecRecord> loadAll();

    /** Adds the record or replaces the one with its id. */
    void save(ExecRecord record);

    /** Deletes the record with this id, if there is one. */
    void delete(String id);
}
