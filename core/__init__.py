"""What index/ and assistant/ both use: settings, errors, shared types, prompts, text normalisation."""
