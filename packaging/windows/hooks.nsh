; Hooks for the per-user NSIS installer that the Tauri bundler builds.

!macro NSIS_HOOK_PREINSTALL
!macroend

!macro NSIS_HOOK_POSTINSTALL
!macroend

; Before the files go: the running instance quits and clears its Teams call status, then the
; user's sign-in leaves Windows Credential Manager, with the session marker, the logs and the
; start-at-login entry. The settings file stays for a reinstall.
!macro NSIS_HOOK_PREUNINSTALL
  ExecWait '"$INSTDIR\presence-bridge.exe" --uninstall' $0
  DetailPrint "Presence Bridge clean-up exit code: $0"
!macroend

!macro NSIS_HOOK_POSTUNINSTALL
!macroend
