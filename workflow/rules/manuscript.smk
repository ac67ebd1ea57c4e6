# Stage: manuscript. Outputs that `rule all` asks for:
MANUSCRIPT_OUTPUTS = []
