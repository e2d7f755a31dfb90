"""Policy Q&A assistant: grounded answers over a clause index of policy documents."""
