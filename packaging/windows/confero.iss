; Inno Setup script for Confero's Windows installer (Inno Setup 6.3 or newer).
; packaging\windows\build-windows.ps1 builds the bundle and runs, from the checkout:
;   ISCC.exe /DAppVersion=<pyproject.toml's version> /DAppVersionNumeric=<its x.y.z.0>
;            /DSourceDir=<checkout>\dist\confero
;            /DOutputDir=<checkout>\dist /DIconFile=<checkout>\packaging\icons\confero.ico
;            [/DSign /Sconferosign=<signtool command>] packaging\windows\confero.iss
; and writes dist\Confero-<version>-x64-setup.exe.
;
; It installs for the current user (%LOCALAPPDATA%\Programs\Confero, no
; administrator needed) or, chosen at start, for all users (Program Files). The
; uninstaller removes the program and its registry entries; the user's data
; (%LOCALAPPDATA%\Confero: accounts' settings, the local meeting server's data)
; and the passwords in Windows Credential Manager stay, as with any Windows app.

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=x.y.z (build-windows.ps1 reads it from pyproject.toml)
#endif
#ifndef AppVersionNumeric
  ; Windows' file version is four numbers: "1.2.0rc1" is 1.2.0.0 there.
  #define AppVersionNumeric AppVersion
#endif
; SourceDir is relative to this script's folder, the other two to SourceDir.
#ifndef SourceDir
  #define SourceDir "..\..\dist\confero"
#endif
#ifndef OutputDir
  #define OutputDir ".."
#endif
#ifndef IconFile
  #define IconFile "..\..\packaging\icons\confero.ico"
#endif

#define AppName "Confero"
#define AppExe "confero.exe"
#define AppPublisher "Confero"
; Where Windows' "Default apps" finds Confero's capabilities (its own key:
; nothing else of Confero's lives in the registry).
#define CapabilitiesKey "Software\Confero\Capabilities"
#define ProgId "Confero.matrix"

[Setup]
; The AppId identifies Confero for upgrades and its uninstaller: never change it.
AppId={{6F3C2A71-0C8B-4E55-9A1E-5B0D3C1F7A42}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
AppComments=Meetings on the open Matrix protocol
VersionInfoVersion={#AppVersionNumeric}
VersionInfoProductVersion={#AppVersionNumeric}
VersionInfoProductTextVersion={#AppVersion}
VersionInfoDescription={#AppName} Setup
; Per-user by default, per-machine when chosen in the first dialog (or with
; /ALLUSERS on the command line): {autopf} and HKA follow that choice.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; The bundle is x64 (CPython and the wheels it was built from).
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Windows 10 1809 or newer (Qt 6's minimum).
MinVersion=10.0.17763
SourceDir={#SourceDir}
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-x64-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; A running Confero (and its meeting server, the same exe) is closed before
; files are replaced or removed.
CloseApplications=yes
RestartApplications=no
ChangesAssociations=yes
#ifdef Sign
; build-windows.ps1 defines the "conferosign" Sign Tool (/S) when a certificate
; is given: Setup and its uninstaller are signed with it.
SignTool=conferosign
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole PyInstaller one-folder bundle (confero.exe and _internal\).
Source: "*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Meetings on the open Matrix protocol"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; matrix: links open in Confero: the URL protocol itself (HKA is HKCU for a
; per-user install, HKLM for all users; both appear under HKCR).
Root: HKA; Subkey: "Software\Classes\matrix"; ValueType: string; ValueName: ""; ValueData: "URL:Matrix link"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\matrix"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\matrix\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"
Root: HKA; Subkey: "Software\Classes\matrix\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; ...and Confero listed for it in Settings > Apps > Default apps.
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "Matrix link"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "{#CapabilitiesKey}"; ValueType: string; ValueName: "ApplicationName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "{#CapabilitiesKey}"; ValueType: string; ValueName: "ApplicationDescription"; ValueData: "Meetings on the open Matrix protocol"
Root: HKA; Subkey: "{#CapabilitiesKey}\URLAssociations"; ValueType: string; ValueName: "matrix"; ValueData: "{#ProgId}"
Root: HKA; Subkey: "Software\Confero"; Flags: uninsdeletekeyifempty
Root: HKA; Subkey: "Software\RegisteredApplications"; ValueType: string; ValueName: "{#AppName}"; ValueData: "{#CapabilitiesKey}"; Flags: uninsdeletevalue

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only the bundle's own folder: whatever is left in it after the installed files
; are gone is Confero's (the frozen Python writes no byte-code caches, but a
; per-user install folder is writable). The user's data lives elsewhere.
Type: filesandordirs; Name: "{app}\_internal"
