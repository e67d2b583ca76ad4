/** Failure rows (enough to replay an element), their JSON, and their conversion to Beam BadRecords. */
package org.dspex.beam.transforms.failures;
