"""The inputs file (`HEALTHMON_INPUTS_FILE`): which topics to read, of which kind, in which shape."""

from healthmon.ingest.formats.spec import FILE_KINDS, KIND_NAMES, NATIVE, InputsFile, InputSpec, default_inputs
from healthmon.ingest.inputs.load import InputsError, inputs_or_default, load_inputs, parse_inputs

__all__ = ["FILE_KINDS", "KIND_NAMES", "NATIVE", "InputSpec", "InputsError", "InputsFile", "default_inputs",
           "inputs_or_default", "load_inputs", "parse_inputs"]
