# Stage: provenance. Outputs that `rule all` asks for:
PROVENANCE_OUTPUTS = []
