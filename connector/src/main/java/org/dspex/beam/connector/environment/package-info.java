/**
 * The Python environment the workers run in, when the user configured none: a venv the connector
 * builds itself on first use from a lock file bundled in its jar, in a per-user cache keyed by the
 * lock's hash ({@link org.dspex.beam.connector.environment.PythonEnvironment}). Below {@code worker},
 * which asks it for an interpreter; it knows nothing of workers or protocols.
 */
package org.dspex.beam.connector.environment;
