# Stage: audit. Outputs that `rule all` asks for:
AUDIT_OUTPUTS = []
