"use client";

import { useParams } from "next/navigation";
import { PageHead } from "@/app/components/page-head";
import { GuardInterfacesSection } from "./guard-interfaces-section";
import { HaSettingsSection } from "./ha-settings-section";

/**
 * The cluster's settings, one self-contained section each. Changes go into the draft like every
 * other policy change and reach the gateways when the draft is published.
 */
export default function ClusterSettingsPage() {
  const { clusterId } = useParams<{ clusterId: string }>();
  return (
    <>
      <PageHead title="Settings" note="changes go into the draft" />
      <GuardInterfacesSection clusterId={clusterId} />
      <HaSettingsSection clusterId={clusterId} />
    </>
  );
}
